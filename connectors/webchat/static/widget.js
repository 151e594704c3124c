/*
 * Ventanilla — widget de chat web (es-MX).
 *
 * Embedding (one tag, nothing else):
 *   <script src="https://HOST/webchat/widget.js" defer></script>
 * Optional attributes: data-title="…" (panel title), data-open="true" (start opened).
 *
 * The server is the origin this file was loaded from; the socket is ws(s)://HOST/webchat/ws.
 * Everything lives in an open Shadow DOM under <ventanilla-chat>, so the host page's CSS does not
 * reach it and its CSS does not reach the host page. No libraries, no fetches besides the socket.
 * Every text that comes from a person or the server is written with textContent / text nodes;
 * nothing here ever assigns innerHTML.
 *
 * Protocol (JSON text frames on /webchat/ws):
 *   → {type:"hello", session}            ← {type:"session", session, restored, history, notice}
 *   → {type:"message", text, payload, client_id}
 *   ← {type:"message", id, from, text, buttons, ts, client_id}
 *   ← {type:"ack", client_id, id}   ← {type:"typing", on}   ← {type:"error", code, message, client_id}
 */
(() => {
  "use strict";

  if (window.__ventanillaWebchat) return; // embedded twice: keep the first one
  window.__ventanillaWebchat = true;

  // ------------------------------------------------------------------ configuration
  const STORAGE_KEY = "ventanilla.session";
  const BACKOFF_MAX_MS = 15000;
  const HELLO_TIMEOUT_MS = 10000; // socket must open and answer hello within this
  const TYPING_SAFETY_MS = 60000; // hide a typing indicator the server forgot to turn off
  // Errors about a frame the server could not read; they may come without a client_id.
  const FRAME_ERRORS = new Set([
    "empty_message",
    "message_too_long",
    "frame_too_large",
    "invalid_json",
    "invalid_encoding",
  ]);
  const MAX_SEND_TRIES = 3; // a message whose sending keeps dropping the socket is given back
  const NARROW = "(max-width: 480px), (max-height: 500px)";

  const script = document.currentScript || findOwnScript();
  const scriptUrl = new URL(script && script.src ? script.src : "/webchat/widget.js", location.href);
  const wsUrl = new URL("ws", scriptUrl); // sibling of widget.js: /webchat/ws
  wsUrl.protocol = scriptUrl.protocol === "https:" ? "wss:" : "ws:";
  wsUrl.search = "";
  wsUrl.hash = "";
  const privacyUrl = new URL("/privacidad", scriptUrl.origin).href;
  const dataset = (script && script.dataset) || {};
  const TITLE = (dataset.title || "").trim() || "Ventanilla";
  const START_OPEN = dataset.open === "true";

  const T = {
    call911: "Llamar al 911",
    callLineaVida: "Llamar a la Línea de la Vida (800 911 2000)",
    launcherOpen: "Abrir chat",
    launcherClose: "Cerrar chat",
    placeholder: "Escribe tu mensaje…",
    inputLabel: "Escribe tu mensaje",
    send: "Enviar",
    connecting: "Conectando…",
    online: "En línea",
    offline: "Sin conexión. Reintentando…",
    typing: "Ventanilla está escribiendo…",
    log: "Conversación",
    quickReplies: "Respuestas sugeridas",
    intro:
      "Hola, soy Ventanilla, el asistente en línea del Instituto. Escribe tu mensaje para comenzar.",
    privacy: "Aviso de privacidad",
    privacyHint: "No compartas datos personales que no te pidamos.",
    dismiss: "Cerrar aviso",
    you: "Tú:",
    bot: "Ventanilla:",
    agent: "Agente:",
    agentLabel: "Agente",
    sending: "Enviando…",
    pending: "Se enviará al reconectar",
    sent: "Enviado",
    failed: "No enviado",
    genericError: "Ocurrió un problema. Intenta de nuevo.",
    notDelivered: "No pudimos enviar tu mensaje. Revisa tu conexión e inténtalo de nuevo.",
    newMessages: (n) => (n === 1 ? "1 mensaje nuevo" : `${n} mensajes nuevos`),
  };

  function findOwnScript() {
    const list = document.getElementsByTagName("script");
    for (let i = list.length - 1; i >= 0; i--) {
      if (/\/widget\.js(?:[?#]|$)/.test(list[i].src || "")) return list[i];
    }
    return null;
  }

  // ------------------------------------------------------------------ small helpers
  function storageGet() {
    try {
      return window.localStorage.getItem(STORAGE_KEY);
    } catch (_) {
      return null; // storage blocked (privacy mode, sandboxed frame): the session lives in memory
    }
  }

  function storageSet(value) {
    try {
      window.localStorage.setItem(STORAGE_KEY, value);
    } catch (_) {
      /* see storageGet */
    }
  }

  // crypto.randomUUID exists only in secure contexts (https, localhost); plain-http intranets
  // still have getRandomValues.
  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (n) => n.toString(16).padStart(2, "0")).join("");
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  /** Element builder. Strings among children become text nodes, never markup. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value == null || value === false) continue;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = value;
        else if (key.startsWith("on") && typeof value === "function") {
          el.addEventListener(key.slice(2), value);
        } else el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children) if (child != null) el.append(child);
    return el;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function icon(pathData) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }
  const ICON_CHAT =
    "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8.4L4 21.6V18a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z";
  const ICON_CLOSE =
    "M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 0 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z";

  /** Writes text into el; for bot/agent text, http(s) URLs become <a> elements built by hand. */
  const URL_RE = /https?:\/\/[^\s<>"'`]+/gi;
  function fillText(el, text, linkify) {
    el.textContent = "";
    if (!linkify) {
      el.textContent = text;
      return;
    }
    let last = 0;
    URL_RE.lastIndex = 0;
    let match;
    while ((match = URL_RE.exec(text)) !== null) {
      let raw = match[0];
      // Trailing punctuation belongs to the sentence, not the URL ("…en https://x/y.")
      raw = raw.replace(/[.,;:!?¡¿»”’]+$/u, "");
      if (raw.endsWith(")") && !raw.includes("(")) raw = raw.replace(/\)+$/, "");
      let href = null;
      try {
        const parsed = new URL(raw);
        if (parsed.protocol === "http:" || parsed.protocol === "https:") href = parsed.href;
      } catch (_) {
        href = null;
      }
      if (!href) continue;
      el.append(text.slice(last, match.index));
      el.append(h("a", { href, target: "_blank", rel: "noopener noreferrer", text: raw }));
      last = match.index + raw.length;
      URL_RE.lastIndex = last;
    }
    el.append(text.slice(last));
  }

  function formatTime(ts) {
    if (!ts) return "";
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) return "";
    const now = new Date();
    const sameDay = d.toDateString() === now.toDateString();
    try {
      return sameDay
        ? d.toLocaleTimeString("es-MX", { hour: "2-digit", minute: "2-digit" })
        : d.toLocaleString("es-MX", {
            day: "numeric",
            month: "short",
            hour: "2-digit",
            minute: "2-digit",
          });
    } catch (_) {
      return "";
    }
  }

  // ------------------------------------------------------------------ styles
  const CSS = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.vt-root {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45; color: #1b1f1d; text-align: left; direction: ltr;
  -webkit-font-smoothing: antialiased;
}
button, textarea { font: inherit; color: inherit; margin: 0; }
.vt-sr {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0;
}
:focus { outline: none; }
:focus-visible { outline: 3px solid #1a56db; outline-offset: 2px; }

.vt-launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2;
  width: 60px; height: 60px; border-radius: 50%; border: 0; padding: 0;
  background: #0b5d47; color: #fff; cursor: pointer;
  display: flex; align-items: center; justify-content: center;
  box-shadow: 0 4px 14px rgba(0, 0, 0, .28);
}
.vt-launcher:hover { background: #084a38; }
.vt-launcher:focus-visible { outline: none; box-shadow: 0 0 0 3px #fff, 0 0 0 6px #1a56db; }
.vt-badge {
  position: absolute; top: -2px; right: -2px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #b3261e; color: #fff; font-size: 12px; font-weight: 700;
  line-height: 22px; text-align: center; border: 2px solid #fff;
}

.vt-panel {
  position: fixed; right: 20px; bottom: 92px; z-index: 1;
  width: 380px; height: 560px; max-width: calc(100vw - 40px); max-height: calc(100vh - 112px);
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border: 1px solid #c9d3cf; border-radius: 14px;
  box-shadow: 0 12px 40px rgba(0, 0, 0, .28);
}
@media ${NARROW} {
  .vt-panel {
    top: 0; left: 0; right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh;
    max-width: none; max-height: none; border: 0; border-radius: 0; box-shadow: none;
  }
  .vt-root.vt-open .vt-launcher { display: none; }
}

.vt-header {
  flex: none; display: flex; align-items: center; gap: 10px;
  padding: 10px 8px 10px 16px; background: #0b5d47; color: #fff;
}
.vt-header :focus-visible { outline-color: #fff; }
.vt-heading { flex: 1; min-width: 0; }
.vt-title {
  margin: 0; font-size: 17px; font-weight: 700; line-height: 1.25;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.vt-status { display: flex; align-items: center; gap: 6px; font-size: 13px; color: #e3f1eb; min-height: 18px; }
.vt-status::before {
  content: ""; width: 8px; height: 8px; border-radius: 50%; background: #f2c94c; flex: none;
}
.vt-status[data-state="online"]::before { background: #7be0b4; }
.vt-status[data-state="offline"]::before { background: #ff8a80; }
.vt-status[data-state="idle"]::before { display: none; }
.vt-close {
  flex: none; width: 44px; height: 44px; border: 0; border-radius: 8px; padding: 0;
  background: transparent; color: #fff; cursor: pointer;
  display: flex; align-items: center; justify-content: center;
}
.vt-close:hover { background: rgba(255, 255, 255, .14); }

.vt-log {
  flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain;
  padding: 14px 12px; background: #f4f7f6;
  display: flex; flex-direction: column; gap: 8px;
}
.vt-log:focus-visible { outline-offset: -3px; }
.vt-intro { margin: 4px 4px 8px; color: #46514c; font-size: 14px; text-align: center; }

.vt-msg { max-width: 85%; padding: 8px 12px 6px; border-radius: 16px; overflow-wrap: anywhere; }
.vt-text { white-space: pre-wrap; }
.vt-msg a { color: inherit; text-decoration: underline; text-underline-offset: 2px; }
.vt-msg--bot a, .vt-msg--agent a { color: #0b4a9e; }
.vt-msg--user {
  align-self: flex-end; background: #0b5d47; color: #fff; border-bottom-right-radius: 4px;
}
.vt-msg--bot {
  align-self: flex-start; background: #fff; color: #1b1f1d;
  border: 1px solid #d3dcd8; border-bottom-left-radius: 4px;
}
.vt-msg--agent {
  align-self: flex-start; background: #e8f0fb; color: #13233d;
  border: 1px solid #c3d3ec; border-bottom-left-radius: 4px;
}
.vt-msg--user[data-state="failed"] { background: #fff; color: #1b1f1d; border: 1.5px dashed #b3261e; }
.vt-sender { display: block; font-size: 12px; font-weight: 700; color: #1e4f8f; margin-bottom: 2px; }
.vt-meta { display: flex; justify-content: flex-end; gap: 8px; margin-top: 2px; font-size: 11.5px; color: #58635e; }
.vt-msg--user .vt-meta { color: #d9ede5; }
.vt-msg--user[data-state="failed"] .vt-meta { color: #b3261e; font-weight: 700; }

.vt-qr { align-self: flex-start; display: flex; flex-wrap: wrap; gap: 6px; max-width: 100%; margin: 0 0 2px; }
.vt-qr-btn {
  min-height: 40px; padding: 7px 14px; border-radius: 20px; cursor: pointer;
  background: #fff; color: #0b5d47; border: 1.5px solid #0b5d47; font-weight: 600; text-align: left;
}
.vt-qr-btn:hover { background: #e3f1eb; }
.vt-qr-btn:active { background: #cfe6dc; }

.vt-alert { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.vt-call {
  display: inline-block; padding: 8px 12px; border-radius: 8px; background: #b3261e; color: #fff;
  font-weight: 600; text-decoration: none;
}
.vt-call:focus-visible { outline: none; box-shadow: 0 0 0 3px #fff, 0 0 0 6px #1a56db; }
.vt-notice {
  align-self: center; margin: 4px 0; padding: 6px 12px; max-width: 95%;
  background: #fff6dc; color: #5a4300; border: 1px solid #ecd58a; border-radius: 10px;
  font-size: 13.5px; text-align: center;
}

.vt-typing {
  flex: none; display: flex; align-items: center; gap: 8px;
  padding: 4px 16px 6px; background: #f4f7f6; color: #46514c; font-size: 13px; font-style: italic;
}
.vt-dots { display: inline-flex; gap: 3px; }
.vt-dots span { width: 6px; height: 6px; border-radius: 50%; background: #6b7772; animation: vt-blink 1.2s infinite ease-in-out; }
.vt-dots span:nth-child(2) { animation-delay: .2s; }
.vt-dots span:nth-child(3) { animation-delay: .4s; }
@keyframes vt-blink { 0%, 80%, 100% { opacity: .25; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-2px); } }
@media (prefers-reduced-motion: reduce) { .vt-dots span { animation: none; opacity: .7; } }

.vt-error {
  flex: none; display: flex; align-items: flex-start; gap: 8px; margin: 0;
  padding: 8px 6px 8px 12px; background: #fdecea; color: #8c1d18; border-top: 1px solid #f3c1bc;
  font-size: 14px;
}
.vt-error-text { flex: 1; padding-top: 3px; }
.vt-error-close {
  flex: none; width: 32px; height: 32px; border: 0; border-radius: 6px; padding: 0;
  background: transparent; color: #8c1d18; cursor: pointer;
  display: flex; align-items: center; justify-content: center;
}
.vt-error-close svg { width: 18px; height: 18px; }
.vt-error-close:hover { background: rgba(140, 29, 24, .1); }

.vt-form {
  flex: none; display: flex; align-items: flex-end; gap: 8px;
  padding: 10px 10px 6px; background: #fff; border-top: 1px solid #dbe3e0;
}
.vt-input {
  flex: 1; min-width: 0; min-height: 44px; max-height: 128px; resize: none;
  padding: 10px 12px; border: 1.5px solid #6b7772; border-radius: 10px;
  background: #fff; color: #1b1f1d; font-size: 16px; line-height: 1.35;
}
.vt-input::placeholder { color: #67726d; opacity: 1; }
.vt-input:focus { outline: 3px solid #1a56db; outline-offset: 0; border-color: #1a56db; }
.vt-send {
  flex: none; min-height: 44px; padding: 0 16px; border: 0; border-radius: 10px; cursor: pointer;
  background: #0b5d47; color: #fff; font-weight: 700;
}
.vt-send:hover { background: #084a38; }
.vt-footer { flex: none; padding: 0 12px 8px; background: #fff; font-size: 12px; color: #4d5853; }
.vt-footer a { color: #0b4a9e; }
`;

  // ------------------------------------------------------------------ DOM
  const host = document.createElement("ventanilla-chat");
  host.setAttribute("lang", "es-MX");
  // Inline styles through CSSOM (allowed under strict CSP) so host rules cannot move it.
  host.style.setProperty("all", "initial", "important");
  host.style.setProperty("position", "fixed", "important");
  host.style.setProperty("z-index", "2147483000", "important");
  host.style.setProperty("right", "0", "important");
  host.style.setProperty("bottom", "0", "important");
  host.style.setProperty("width", "0", "important");
  host.style.setProperty("height", "0", "important");
  host.style.setProperty("display", "block", "important");
  const shadow = host.attachShadow({ mode: "open" });

  let sheetAdopted = false;
  try {
    if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function") {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // constructed sheets are not blocked by a page's style-src CSP
      shadow.adoptedStyleSheets = [sheet];
      sheetAdopted = true;
    }
  } catch (_) {
    sheetAdopted = false;
  }
  if (!sheetAdopted) shadow.append(h("style", { text: CSS }));

  const uid = `vt-${Math.random().toString(36).slice(2, 9)}`;

  const badge = h("span", { class: "vt-badge", "aria-hidden": "true", hidden: true });
  const launcherIcon = h("span", { class: "vt-launcher-icon" }, icon(ICON_CHAT));
  const launcher = h(
    "button",
    {
      type: "button",
      class: "vt-launcher",
      "data-testid": "vt-launcher",
      "aria-expanded": "false",
      "aria-controls": `${uid}-panel`,
      "aria-label": T.launcherOpen,
      title: T.launcherOpen,
    },
    launcherIcon,
    badge,
  );

  const statusEl = h("div", {
    class: "vt-status",
    "data-testid": "vt-status",
    "data-state": "idle",
    role: "status",
  });
  const closeBtn = h(
    "button",
    {
      type: "button",
      class: "vt-close",
      "data-testid": "vt-close",
      "aria-label": T.launcherClose,
      title: T.launcherClose,
    },
    icon(ICON_CLOSE),
  );
  const header = h(
    "div",
    { class: "vt-header" },
    h(
      "div",
      { class: "vt-heading" },
      h("h2", { class: "vt-title", id: `${uid}-title`, text: TITLE }),
      statusEl,
    ),
    closeBtn,
  );

  const intro = h("p", { class: "vt-intro", text: T.intro });
  const log = h("div", {
    class: "vt-log",
    "data-testid": "vt-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": T.log,
    tabindex: "0",
  });
  log.append(intro);

  const qrBox = h("div", {
    class: "vt-qr",
    role: "group",
    "aria-label": T.quickReplies,
    "data-testid": "vt-quick-replies",
  });

  const typingEl = h(
    "div",
    { class: "vt-typing", "data-testid": "vt-typing", hidden: true },
    h("span", { class: "vt-dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
    h("span", { text: T.typing }),
  );

  const errorText = h("span", { class: "vt-error-text" });
  const errorClose = h(
    "button",
    { type: "button", class: "vt-error-close", "aria-label": T.dismiss, title: T.dismiss },
    icon(ICON_CLOSE),
  );
  const errorEl = h(
    "div",
    { class: "vt-error", "data-testid": "vt-error", role: "alert", hidden: true },
    errorText,
    errorClose,
  );

  const input = h("textarea", {
    class: "vt-input",
    id: `${uid}-input`,
    "data-testid": "vt-input",
    rows: "1",
    placeholder: T.placeholder,
    autocomplete: "off",
    enterkeyhint: "send",
  });
  const sendBtn = h("button", {
    type: "submit",
    class: "vt-send",
    "data-testid": "vt-send",
    text: T.send,
  });
  const form = h(
    "form",
    { class: "vt-form", novalidate: true },
    h("label", { class: "vt-sr", for: `${uid}-input`, text: T.inputLabel }),
    input,
    sendBtn,
  );
  const footer = h(
    "div",
    { class: "vt-footer" },
    `${T.privacyHint} `,
    h("a", { href: privacyUrl, target: "_blank", rel: "noopener noreferrer", text: T.privacy }),
  );

  const panel = h(
    "section",
    {
      class: "vt-panel",
      id: `${uid}-panel`,
      "data-testid": "vt-panel",
      role: "region",
      "aria-labelledby": `${uid}-title`,
      hidden: true,
    },
    header,
    log,
    typingEl,
    errorEl,
    form,
    footer,
  );

  const root = h("div", { class: "vt-root" }, panel, launcher);
  shadow.append(root);

  // ------------------------------------------------------------------ state
  /**
   * entries: what the log shows, in order. Each is
   *   {kind:"msg", id, from, text, buttons, ts, clientId, payload, state, node}
   * or {kind:"notice", text, node}. state (user messages): sending | pending | sent | failed.
   */
  let entries = [];
  let sessionId = storageGet();
  let ws = null;
  let ready = false; // socket open and hello answered
  let started = false; // first connection attempted
  let attempt = 0; // reconnect attempts since the last successful hello
  let retryTimer = null;
  let helloTimer = null;
  let typingTimer = null;
  let isOpen = false;
  let unread = 0;
  let qrEntry = null; // the bot message whose buttons are shown
  let qrKey = "";

  // ------------------------------------------------------------------ rendering
  function renderEntry(e) {
    if (e.kind === "notice") {
      e.node = h("p", { class: "vt-notice", "data-testid": "vt-notice", text: e.text });
      return;
    }
    const textEl = h("div", { class: "vt-text", "data-testid": "vt-msg-text" });
    fillText(textEl, e.text, e.from !== "user");
    const prefix = e.from === "user" ? T.you : e.from === "agent" ? T.agent : T.bot;
    const meta = h("div", { class: "vt-meta", "aria-hidden": "true" });
    e.node = h(
      "div",
      { class: `vt-msg vt-msg--${e.from}`, "data-testid": `vt-msg-${e.from}` },
      h("span", { class: "vt-sr", text: `${prefix} ` }),
      e.from === "agent" ? h("span", { class: "vt-sender", text: T.agentLabel }) : null,
      textEl,
      e.alert ? alertCalls(e.alert) : null,
      meta,
    );
    e.textEl = textEl;
    e.metaEl = meta;
    updateEntryNode(e);
  }

  /** Call buttons under an emergency's message: 911 always, the crisis line for suicidal talk. */
  function alertCalls(kind) {
    const calls = [h("a", { class: "vt-call", href: "tel:911", text: T.call911 })];
    if (kind === "suicidio") {
      calls.push(h("a", { class: "vt-call", href: "tel:8009112000", text: T.callLineaVida }));
    }
    return h("div", { class: "vt-alert", role: "alert", "data-testid": "vt-alert", "data-kind": kind }, ...calls);
  }

  function updateEntryNode(e) {
    if (e.kind !== "msg" || !e.node) return;
    if (e.id != null) e.node.setAttribute("data-id", String(e.id));
    if (e.clientId) e.node.setAttribute("data-client-id", e.clientId);
    if (e.from === "user") e.node.setAttribute("data-state", e.state || "sent");
    e.metaEl.textContent = "";
    const time = formatTime(e.ts);
    if (time) e.metaEl.append(h("time", { datetime: e.ts, text: time }));
    if (e.from === "user") {
      const label =
        e.state === "failed"
          ? T.failed
          : e.state === "pending"
            ? T.pending
            : e.state === "sending"
              ? T.sending
              : T.sent;
      e.metaEl.append(h("span", { class: "vt-state", text: label }));
    }
  }

  /** The latest bot message carries clickable quick replies, unless someone spoke after it. */
  function pickQuickReplyEntry() {
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      if (e.kind !== "msg") continue;
      if (e.from === "user" && e.state === "failed") continue; // it never reached the bot
      if (e.from === "bot" && e.buttons.length) return e;
      return null;
    }
    return null;
  }

  function rebuildQuickReplies() {
    qrEntry = pickQuickReplyEntry();
    const key = qrEntry ? `${qrEntry.id ?? ""}|${JSON.stringify(qrEntry.buttons)}` : "";
    if (key === qrKey) return;
    qrKey = key;
    qrBox.textContent = "";
    if (!qrEntry) return;
    for (const b of qrEntry.buttons) {
      qrBox.append(
        h("button", {
          type: "button",
          class: "vt-qr-btn",
          "data-testid": "vt-quick-reply",
          "data-payload": b.payload ?? "",
          text: b.title,
          onclick: () => {
            sendUserMessage(b.title, b.payload);
            input.focus();
          },
        }),
      );
    }
  }

  /** Makes the log's children match `entries` (moving only what moved), then scrolls. */
  function syncLog(forceScroll) {
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    rebuildQuickReplies();
    const desired = [];
    if (!entries.some((e) => e.kind === "msg")) desired.push(intro);
    for (const e of entries) {
      if (!e.node) renderEntry(e);
      desired.push(e.node);
      if (e === qrEntry) desired.push(qrBox);
    }
    const keep = new Set(desired);
    for (const child of Array.from(log.children)) if (!keep.has(child)) child.remove();
    let ref = log.firstChild;
    for (const node of desired) {
      if (node === ref) {
        ref = ref.nextSibling;
        continue;
      }
      log.insertBefore(node, ref);
    }
    if (forceScroll || nearBottom) log.scrollTop = log.scrollHeight;
  }

  function setStatus(state) {
    statusEl.setAttribute("data-state", state);
    statusEl.textContent =
      state === "online"
        ? T.online
        : state === "offline"
          ? T.offline
          : state === "connecting"
            ? T.connecting
            : "";
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    typingEl.hidden = !on;
    if (on) typingTimer = setTimeout(() => setTyping(false), TYPING_SAFETY_MS);
  }

  function showError(message) {
    errorText.textContent = message || T.genericError;
    errorEl.hidden = false;
  }

  function clearError() {
    errorEl.hidden = true;
    errorText.textContent = "";
  }

  function updateBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    const label = isOpen
      ? T.launcherClose
      : unread
        ? `${T.launcherOpen} (${T.newMessages(unread)})`
        : T.launcherOpen;
    launcher.setAttribute("aria-label", label);
    launcher.setAttribute("title", label);
  }

  function autoResize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 3, 128)}px`;
  }

  function setOpen(open, { focus = false } = {}) {
    isOpen = open;
    panel.hidden = !open;
    root.classList.toggle("vt-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcherIcon.textContent = "";
    launcherIcon.append(icon(open ? ICON_CLOSE : ICON_CHAT));
    if (open) {
      unread = 0;
      start();
      log.scrollTop = log.scrollHeight;
      if (focus) input.focus();
    } else if (focus) {
      launcher.focus();
    }
    updateBadge();
  }

  // ------------------------------------------------------------------ messages
  function normalizeServerMessage(m) {
    if (!m || typeof m !== "object") return null;
    const from = m.from === "user" || m.from === "agent" ? m.from : m.from === "bot" ? "bot" : null;
    if (!from) return null;
    const buttons = Array.isArray(m.buttons)
      ? m.buttons
          .filter((b) => b && typeof b.title === "string" && b.title.trim())
          .map((b) => ({ title: b.title, payload: typeof b.payload === "string" ? b.payload : null }))
      : [];
    const text = typeof m.text === "string" ? m.text : "";
    if (!text && !buttons.length) return null;
    return {
      kind: "msg",
      id: Number.isInteger(m.id) ? m.id : null,
      from,
      text,
      buttons: from === "bot" ? buttons : [],
      ts: typeof m.ts === "string" ? m.ts : null,
      clientId: typeof m.client_id === "string" && m.client_id ? m.client_id : null,
      // An emergency the gateway detected: the message offers the calls to make (tel: links).
      alert: m.alert && typeof m.alert.kind === "string" ? m.alert.kind : null,
      payload: null,
      state: "sent",
      node: null,
    };
  }

  function findByClientId(clientId) {
    if (!clientId) return null;
    return entries.find((e) => e.kind === "msg" && e.clientId === clientId) || null;
  }

  function sendUserMessage(rawText, payload) {
    const text = String(rawText ?? "").trim();
    if (!text) return false;
    clearError();
    const entry = {
      kind: "msg",
      id: null,
      from: "user",
      text,
      buttons: [],
      ts: new Date().toISOString(),
      clientId: uuid(),
      payload: typeof payload === "string" ? payload : null,
      state: "pending",
      node: null,
    };
    entries.push(entry);
    if (ready) transmit(entry);
    else start();
    syncLog(true);
    return true;
  }

  function transmit(entry) {
    entry.tries = (entry.tries || 0) + 1;
    if (entry.tries > MAX_SEND_TRIES) {
      // Sent several times and the connection dropped each time before it was stored:
      // stop retrying it (it may be what breaks the connection) and give it back to the person.
      failEntry(entry, T.notDelivered);
      return;
    }
    try {
      ws.send(
        JSON.stringify({
          type: "message",
          text: entry.text,
          payload: entry.payload,
          client_id: entry.clientId,
        }),
      );
      entry.state = "sending";
    } catch (_) {
      entry.state = "pending"; // socket died under us; onclose will reconnect and resend
    }
    updateEntryNode(entry);
  }

  function failEntry(entry, message) {
    if (message) showError(message);
    if (entry.state === "failed") return;
    entry.state = "failed";
    updateEntryNode(entry);
    // A typed message goes back to the input; a quick reply's buttons simply come back.
    if (!entry.payload) restoreToInput(entry.text);
    syncLog(false);
  }

  function flushQueue() {
    for (const e of entries) {
      if (!ready) return;
      if (e.kind === "msg" && e.from === "user" && e.state === "pending") transmit(e);
    }
  }

  /** Put a message that did not get through back in the input, without losing what is there. */
  function restoreToInput(text) {
    const current = input.value.trim();
    input.value = current ? `${text}\n${input.value}` : text;
    autoResize();
    if (isOpen && shadow.activeElement && panel.contains(shadow.activeElement)) input.focus();
  }

  // ------------------------------------------------------------------ server frames
  function onSession(frame) {
    if (typeof frame.session !== "string" || !frame.session) return;
    sessionId = frame.session;
    storageSet(sessionId);
    ready = true;
    attempt = 0;
    clearTimeout(helloTimer);
    setStatus("online");
    replaceHistory(Array.isArray(frame.history) ? frame.history : []);
    if (typeof frame.notice === "string" && frame.notice.trim()) {
      entries.push({ kind: "notice", text: frame.notice, node: null });
      syncLog(true);
    }
    flushQueue();
  }

  /** History from the server replaces the log; local messages it lacks stay queued after it. */
  function replaceHistory(history) {
    const byId = new Map();
    const byClient = new Map();
    for (const e of entries) {
      if (e.kind !== "msg") continue;
      if (e.id != null) byId.set(e.id, e);
      if (e.clientId) byClient.set(e.clientId, e);
    }
    const next = [];
    const seenIds = new Set();
    const seenClients = new Set();
    for (const raw of history) {
      const m = normalizeServerMessage(raw);
      if (!m) continue;
      if (m.id != null) {
        if (seenIds.has(m.id)) continue;
        seenIds.add(m.id);
      }
      if (m.clientId) seenClients.add(m.clientId);
      let e = (m.id != null && byId.get(m.id)) || (m.clientId && byClient.get(m.clientId)) || null;
      if (e && e.from === m.from && next.indexOf(e) === -1) {
        const changed = e.text !== m.text;
        e.id = m.id;
        e.text = m.text;
        e.ts = m.ts || e.ts;
        e.buttons = m.buttons;
        e.state = "sent";
        if (changed) e.node = null;
        else updateEntryNode(e);
      } else {
        e = m;
      }
      next.push(e);
    }
    for (const e of entries) {
      if (e.kind !== "msg" || e.from !== "user") continue;
      if ((e.state === "pending" || e.state === "sending") && !seenClients.has(e.clientId)) {
        e.state = "pending";
        updateEntryNode(e);
        next.push(e);
      }
    }
    entries = next;
    log.setAttribute("aria-busy", "true");
    syncLog(true);
    log.removeAttribute("aria-busy");
  }

  function onMessage(frame) {
    const m = normalizeServerMessage(frame);
    if (!m) return;
    if (m.id != null && entries.some((e) => e.kind === "msg" && e.id === m.id)) return;
    const mine = m.from === "user" ? findByClientId(m.clientId) : null;
    if (mine) {
      mine.id = m.id ?? mine.id;
      mine.ts = m.ts || mine.ts;
      if (mine.state !== "failed") mine.state = "sent";
      updateEntryNode(mine);
      syncLog(false);
      return;
    }
    entries.push(m);
    if (!isOpen && m.from !== "user") {
      unread += 1;
      updateBadge();
    }
    syncLog(m.from === "user");
  }

  function onAck(frame) {
    const e = findByClientId(frame.client_id);
    if (!e) return;
    if (Number.isInteger(frame.id)) e.id = frame.id;
    if (e.state !== "failed") e.state = "sent";
    updateEntryNode(e);
  }

  function onError(frame) {
    showError(typeof frame.message === "string" && frame.message ? frame.message : T.genericError);
    let e = findByClientId(frame.client_id);
    if (!e && !frame.client_id && FRAME_ERRORS.has(frame.code)) {
      // The server answers frames in order, and one it could not read carries no client_id:
      // it is the oldest message still waiting for its ack.
      e = entries.find((x) => x.kind === "msg" && x.from === "user" && x.state === "sending");
    }
    if (e && e.from === "user") failEntry(e, null);
    if (frame.code === "no_session" && ws) {
      // The server lost track of us: reconnect, which says hello again.
      ready = false;
      ws.close();
    }
  }

  function onFrame(data) {
    if (typeof data !== "string") return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (_) {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "session":
        onSession(frame);
        break;
      case "message":
        onMessage(frame);
        break;
      case "ack":
        onAck(frame);
        break;
      case "typing":
        setTyping(Boolean(frame.on));
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // unknown frames from a newer server are ignored
    }
  }

  // ------------------------------------------------------------------ connection
  function start() {
    if (started) return;
    started = true;
    connect();
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws && (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)) return;
    if (attempt === 0) setStatus("connecting"); // retries keep saying "Sin conexión…"
    let sock;
    try {
      sock = new WebSocket(wsUrl.href);
    } catch (_) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    ready = false;
    clearTimeout(helloTimer);
    helloTimer = setTimeout(() => {
      if (ws === sock && !ready) sock.close();
    }, HELLO_TIMEOUT_MS);
    sock.addEventListener("open", () => {
      if (ws !== sock) return;
      // The newest secret: each hello rotates it, and another tab of this site may have done so.
      sessionId = storageGet() || sessionId;
      sock.send(JSON.stringify({ type: "hello", session: sessionId || null }));
    });
    sock.addEventListener("message", (ev) => {
      if (ws === sock) onFrame(ev.data);
    });
    sock.addEventListener("close", () => {
      if (ws !== sock) return;
      ws = null;
      onDisconnected();
    });
  }

  function onDisconnected() {
    ready = false;
    clearTimeout(helloTimer);
    setTyping(false);
    for (const e of entries) {
      if (e.kind === "msg" && e.state === "sending") {
        e.state = "pending"; // resent after reconnect unless the history shows it arrived
        updateEntryNode(e);
      }
    }
    setStatus("offline");
    scheduleReconnect();
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    const delay = Math.min(1000 * 2 ** attempt, BACKOFF_MAX_MS);
    attempt += 1;
    retryTimer = setTimeout(connect, delay);
  }

  window.addEventListener("online", () => {
    if (started && !ws) connect(); // network is back: don't wait for the timer
  });

  // ------------------------------------------------------------------ events
  launcher.addEventListener("click", () => setOpen(!isOpen, { focus: true }));
  closeBtn.addEventListener("click", () => setOpen(false, { focus: true }));
  errorClose.addEventListener("click", () => {
    clearError();
    input.focus();
  });
  panel.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.stopPropagation();
      setOpen(false, { focus: true });
    }
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (sendUserMessage(input.value, null)) {
      input.value = "";
      autoResize();
    }
    input.focus();
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  input.addEventListener("input", autoResize);

  // ------------------------------------------------------------------ boot
  function mount() {
    document.body.append(host);
    setOpen(START_OPEN);
    // A returning visitor reconnects right away (history, agent replies, unread badge);
    // a new one opens a session only when they open the chat.
    if (sessionId) start();
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();

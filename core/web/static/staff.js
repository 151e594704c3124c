// Ventanilla — shared helpers of the staff pages: DOM building, the API (cookie session + CSRF),
// sign-in, live events (SSE), formatting and the pieces of a transcript.
// Texts for people are in Spanish (es-MX). User data only ever reaches the page as textContent.

export const TIMEZONE = "America/Mexico_City";
const CSRF_COOKIE = "ventanilla_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

// ---------------------------------------------------------------- DOM

/**
 * el("li", {class: "item", testid: "queue-item-3", attrs: {...}, on: {click}}, child, "text", …)
 * Strings become text nodes: never parsed as HTML.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else if (key === "attrs") for (const [name, v] of Object.entries(value)) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(name, v === true ? "" : String(v));
    }
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `node` (same rules as el(): strings are text, null/false skipped). */
export function setChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Replace the children of `node`, keeping keyboard focus on the control with the same test id. */
export function replaceChildrenKeepFocus(node, children) {
  const active = document.activeElement;
  const key = active && node.contains(active) ? active.dataset.testid || active.id : null;
  setChildren(node, children);
  if (key) {
    const again = node.querySelector(`[data-testid="${CSS.escape(key)}"]`) || document.getElementById(key);
    if (again) again.focus({ preventScroll: true });
  }
}

// ---------------------------------------------------------------- API

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

let csrfFromLogin = null;
let onUnauthorized = null;

const GENERIC_ERRORS = {
  0: "No hay conexión con el servidor. Revisa tu red e intenta de nuevo.",
  401: "Tu sesión no es válida o ya venció. Inicia sesión.",
  403: "Tu rol no permite esta operación.",
  404: "No se encontró lo que buscas.",
  409: "La operación ya no es posible: alguien más cambió esta conversación.",
  500: "Ocurrió un error en el servidor. Intenta de nuevo en un momento.",
};

export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** A filter form's non-empty `fields`, trimmed: { field: value }. */
export function formFilters(form, fields) {
  const data = new FormData(form);
  const filters = {};
  for (const field of fields) {
    const value = String(data.get(field) || "").trim();
    if (value) filters[field] = value;
  }
  return filters;
}

/** fetch + JSON with the session cookie; non-GET requests carry the CSRF token. Throws ApiError. */
export async function api(path, { method = "GET", body, query, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.includes(method)) {
    const csrf = cookie(CSRF_COOKIE) || csrfFromLogin;
    if (csrf) headers[CSRF_HEADER] = csrf;
  }
  let response;
  try {
    response = await fetch(path + queryString(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal,
    });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(0, "network", GENERIC_ERRORS[0]);
  }
  const raw = response.status === 204 ? "" : await response.text();
  let data = null;
  if (raw) {
    try { data = JSON.parse(raw); } catch { data = null; }
  }
  if (!response.ok) {
    const detail = data && data.error ? data.error : {};
    const error = new ApiError(
      response.status,
      detail.code || `http_${response.status}`,
      detail.message || GENERIC_ERRORS[response.status] || GENERIC_ERRORS[500],
    );
    if (response.status === 401 && path !== "/api/auth/session" && onUnauthorized) onUnauthorized(error);
    throw error;
  }
  return data;
}

export function errorText(error) {
  if (error instanceof ApiError) return error.message;
  return "Ocurrió un error inesperado. Recarga la página e intenta de nuevo.";
}

/** Show an error message in an element (role="alert" in the markup), or clear it with null. */
export function showError(node, error) {
  if (!node) return;
  node.textContent = error ? errorText(error) : "";
}

// ---------------------------------------------------------------- announcements (live regions)

let politeRegion = null;
let assertiveRegion = null;

function regions() {
  if (!politeRegion) {
    politeRegion = el("div", { class: "visually-hidden", attrs: { "aria-live": "polite", "aria-atomic": "true" }, testid: "announcer" });
    assertiveRegion = el("div", { class: "visually-hidden", attrs: { "aria-live": "assertive", "aria-atomic": "true" } });
    document.body.append(politeRegion, assertiveRegion);
  }
  return [politeRegion, assertiveRegion];
}

/** Say something to screen reader users (polite by default). */
export function announce(text, { assertive = false } = {}) {
  const [polite, urgent] = regions();
  const region = assertive ? urgent : polite;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 60);
}

// ---------------------------------------------------------------- formatting

export const PRIORITY_LABELS = { urgent: "Urgente", high: "Alta", normal: "Normal" };
export const STATUS_LABELS = {
  waiting: "En espera",
  offered: "Ofrecida",
  assigned: "En atención",
  closed: "Cerrada",
  abandoned: "Abandonada",
  expired: "Vencida (regresó al bot)",
};
export const AUTHOR_LABELS = { user: "Usuario", bot: "Ventanilla (bot)", agent: "Agente" };
export const ROLE_LABELS = { agent: "Agente", supervisor: "Supervisión", admin: "Administración", editor: "Edición" };
export const DASH = "—";

export function label(map, code) {
  if (code === null || code === undefined || code === "") return DASH;
  return map[code] || code;
}

let channelNames = null;

/**
 * The channels' names by code ({webchat: "Chat web", …}) from GET /api/channels, the gateway's
 * channel registry: asked once per page load (again only after a failure, which gives {}: then
 * label() shows the raw code).
 */
export function channelLabels() {
  if (!channelNames) {
    channelNames = api("/api/channels").then((names) => names || {}, () => {
      channelNames = null;
      return {};
    });
  }
  return channelNames;
}

const pad = (n) => String(n).padStart(2, "0");

/** Seconds → "mm:ss" (or "h:mm:ss"); null → "—". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return DASH;
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  return hours ? `${hours}:${pad(minutes)}:${pad(secs)}` : `${pad(minutes)}:${pad(secs)}`;
}

/** 0–1 → "85.0 %"; null → "—". */
export function percent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return DASH;
  return `${(ratio * 100).toFixed(1)} %`;
}

const integerFormat = new Intl.NumberFormat("es-MX", { maximumFractionDigits: 0 });
export function count(value) {
  if (value === null || value === undefined) return DASH;
  return integerFormat.format(value);
}

export function dateTime(iso, timeZone = TIMEZONE) {
  if (!iso) return DASH;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return DASH;
  return new Intl.DateTimeFormat("es-MX", { dateStyle: "short", timeStyle: "short", hourCycle: "h23", timeZone }).format(date);
}

export function clock(iso, timeZone = TIMEZONE) {
  if (!iso) return DASH;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return DASH;
  return new Intl.DateTimeFormat("es-MX", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone }).format(date);
}

/** Today's "YYYY-MM" / "YYYY-MM-DD" in Mexico City. */
export function localDate(timeZone = TIMEZONE, date = new Date()) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone })
      .formatToParts(date).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}`;
}

// ---------------------------------------------------------------- ticking timers

/** Elements with data-tick-base (seconds) count up from the moment they were rendered. */
let tickStarted = false;
export function startTicking() {
  if (tickStarted) return;
  tickStarted = true;
  window.setInterval(updateTicks, 1000);
}

export function tickElement(node, seconds) {
  node.dataset.tickBase = String(seconds);
  node.dataset.tickFrom = String(Date.now());
  node.textContent = duration(seconds);
  return node;
}

function updateTicks() {
  const now = Date.now();
  for (const node of document.querySelectorAll("[data-tick-base]")) {
    const base = Number(node.dataset.tickBase);
    const from = Number(node.dataset.tickFrom);
    node.textContent = duration(base + (now - from) / 1000);
  }
}

// ---------------------------------------------------------------- live events (SSE)

/**
 * EventSource on /api/handoff/events (cookie auth). Calls onEvent(type, data) for each event and
 * onState("open" | "connecting" | "closed"). Reopens itself if the browser gives up.
 */
export function liveEvents(types, onEvent, onState = () => {}) {
  let source = null;
  let retry = null;
  let stopped = false;

  function open() {
    if (stopped) return;
    onState("connecting");
    source = new EventSource("/api/handoff/events", { withCredentials: true });
    source.onopen = () => onState("open");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        onState("closed");
        source.close();
        retry = window.setTimeout(open, 15000);
      } else {
        onState("connecting");
      }
    };
    for (const type of types) {
      source.addEventListener(type, (event) => {
        let data = {};
        try { data = JSON.parse(event.data); } catch { data = {}; }
        onEvent(type, data);
      });
    }
  }

  open();
  return {
    isOpen: () => !!source && source.readyState === EventSource.OPEN,
    close() {
      stopped = true;
      window.clearTimeout(retry);
      if (source) source.close();
      onState("closed");
    },
  };
}

/** Run `fn` at most once per `ms`, and once more at the end of a burst. */
export function coalesce(fn, ms) {
  let timer = null;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = window.setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, wait);
  };
}

// ---------------------------------------------------------------- page shell and sign-in

const PAGES = [
  { key: "consola", href: "/consola", text: "Consola de agente", roles: ["agent", "supervisor", "admin"] },
  { key: "supervision", href: "/supervision", text: "Tablero", roles: ["supervisor", "admin"] },
  { key: "transcripciones", href: "/supervision/transcripciones", text: "Transcripciones", roles: ["supervisor", "admin"] },
  { key: "reporte", href: "/supervision/reporte", text: "Reporte mensual", roles: ["supervisor", "admin"] },
  { key: "evaluaciones", href: "/evaluaciones", text: "Evaluaciones COVID-19", roles: ["agent", "supervisor", "admin"], campaign: "omt_covid" },
  { key: "editores", href: "/editores", text: "Base de conocimiento", roles: ["editor", "admin"] },
];

/** Whether `me` may see a campaign's pages (core/accounts/access.py says the same). */
function canSee(me, campaign) {
  if (!campaign || me.role === "admin") return true;
  const campaigns = me.campaigns || [];
  if (me.role === "supervisor") return campaigns.length === 0 || campaigns.includes(campaign);
  return me.role === "agent" && campaigns.includes(campaign);
}

function pagesFor(me) {
  return PAGES.filter((p) => p.roles.includes(me.role) && canSee(me, p.campaign));
}

function buildLogin(container, onSubmit) {
  const error = el("p", { class: "alert", attrs: { role: "alert" }, testid: "login-error" });
  const username = el("input", {
    id: "login-username", type: "text", name: "username", autocomplete: "username", required: true,
    testid: "login-username", attrs: { autocapitalize: "none", spellcheck: "false", maxlength: "64" },
  });
  const password = el("input", {
    id: "login-password", type: "password", name: "password", autocomplete: "current-password",
    required: true, testid: "login-password", attrs: { maxlength: "1024" },
  });
  const submit = el("button", { type: "submit", class: "btn btn-primary", testid: "login-submit", text: "Iniciar sesión" });
  const notice = el("p", { class: "notice", testid: "login-notice", hidden: true });
  const form = el("form", { attrs: { novalidate: true, "aria-labelledby": "login-title" } },
    el("div", { class: "field" }, el("label", { for: "login-username", text: "Usuario" }), username),
    el("div", { class: "field" }, el("label", { for: "login-password", text: "Contraseña" }), password),
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!username.value.trim() || !password.value) {
      error.textContent = "Escribe tu usuario y tu contraseña.";
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Entrando…";
    try {
      await onSubmit(username.value.trim(), password.value);
      password.value = "";
    } catch (err) {
      error.textContent = errorText(err);
      password.select();
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Iniciar sesión";
    }
  });
  container.replaceChildren(
    el("div", { class: "login" },
      el("h2", { id: "login-title", text: "Inicia sesión" }),
      el("p", { class: "hint", text: "Usa tu cuenta del centro de contacto." }),
      notice,
      form,
    ),
  );
  return { username, notice };
}

/**
 * Wire the page: sign-in form, navigation, session box, sign-out, and the 401 handling.
 * `start(me)` runs once signed in with an allowed role (and, for a campaign's page, that campaign
 * in the user's scope) and returns a stop() function.
 */
export async function startPage({ page, roles, campaign = null, start }) {
  const loginView = document.getElementById("login-view");
  const appView = document.getElementById("app-view");
  const forbiddenView = document.getElementById("forbidden-view");
  const nav = document.getElementById("staff-nav");
  const session = document.getElementById("session");
  let stop = null;
  let me = null;

  const login = buildLogin(loginView, async (username, password) => {
    const result = await api("/api/auth/session", { method: "POST", body: { username, password } });
    csrfFromLogin = result.csrf_token;
    signedIn({ username: result.username, role: result.role, campaigns: result.campaigns });
  });

  function renderNav() {
    const links = me ? pagesFor(me) : [];
    nav.hidden = links.length < 2;
    nav.replaceChildren(el("ul", {}, links.map((p) => el("li", {},
      el("a", { href: p.href, text: p.text, attrs: { "aria-current": p.key === page ? "page" : null } }),
    ))));
  }

  function renderSession() {
    if (!me) {
      session.replaceChildren();
      session.hidden = true;
      return;
    }
    const logout = el("button", { type: "button", class: "btn btn-small", testid: "logout", text: "Cerrar sesión" });
    logout.addEventListener("click", async () => {
      logout.disabled = true;
      try {
        await api("/api/auth/logout", { method: "POST" });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) {
          logout.disabled = false;
          announce(errorText(err), { assertive: true });
          return;
        }
      }
      signedOut("Cerraste sesión.");
    });
    session.replaceChildren(
      el("span", { class: "live-state", id: "live-state", testid: "live-state", attrs: { role: "status" } }),
      el("span", {}, el("strong", { testid: "session-user", text: me.username }), " · ", label(ROLE_LABELS, me.role)),
      logout,
    );
    session.hidden = false;
  }

  function signedIn(account) {
    me = account;
    const fromLogin = loginView.contains(document.activeElement);
    renderNav();
    renderSession();
    loginView.hidden = true;
    if (!roles.includes(me.role) || !canSee(me, campaign)) {
      appView.hidden = true;
      forbiddenView.hidden = false;
      const allowed = pagesFor(me);
      forbiddenView.replaceChildren(el("div", { class: "card forbidden", testid: "forbidden" },
        el("h2", { text: "No tienes acceso a esta página" }),
        el("p", { text: roles.includes(me.role)
          ? "Esta página es del personal de otra campaña."
          : `Tu rol (${label(ROLE_LABELS, me.role)}) no permite ver esta página.` }),
        allowed.length ? el("p", {}, "Ir a: ", allowed.map((p, i) => [i ? ", " : "", el("a", { href: p.href, text: p.text })])) : null,
      ));
      return;
    }
    forbiddenView.hidden = true;
    appView.hidden = false;
    const heading = appView.querySelector("h1, h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      if (fromLogin) heading.focus();
    }
    stop = start(me) || null;
  }

  function signedOut(message) {
    if (stop) {
      try { stop(); } catch { /* already stopped */ }
      stop = null;
    }
    me = null;
    csrfFromLogin = null;
    renderNav();
    renderSession();
    appView.hidden = true;
    forbiddenView.hidden = true;
    loginView.hidden = false;
    login.notice.textContent = message || "";
    login.notice.hidden = !message;
    login.username.focus();
  }

  onUnauthorized = () => {
    if (me) signedOut("Tu sesión terminó o venció. Inicia sesión de nuevo.");
  };

  try {
    const account = await api("/api/auth/me");
    signedIn(account);
  } catch (err) {
    signedOut(err instanceof ApiError && err.status === 401 ? "" : errorText(err));
  }
}

/** Set the "live connection" indicator in the top bar. */
export function setLiveState(state) {
  const node = document.getElementById("live-state");
  if (!node) return;
  const text = { open: "● En vivo", connecting: "○ Conectando…", closed: "○ Sin conexión en vivo" }[state] || "";
  if (node.textContent !== text) node.textContent = text;
  node.dataset.state = state;
}

/** Any click or key press, at most once a minute, tells the server the person is active. */
export function trackActivity(everyMs = 60000) {
  let last = 0;
  const ping = () => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    api("/api/auth/me").catch(() => {});
  };
  document.addEventListener("click", ping, true);
  document.addEventListener("keydown", ping, true);
  return () => {
    document.removeEventListener("click", ping, true);
    document.removeEventListener("keydown", ping, true);
  };
}

// ---------------------------------------------------------------- transcript pieces

export function messageItem(message, timeZone = TIMEZONE) {
  const author = message.author in AUTHOR_LABELS ? message.author : "user";
  const buttons = (message.buttons || []).map((b) => b.title || b.payload).filter(Boolean);
  return el("div", {
    class: `msg msg-${author}`,
    testid: "transcript-message",
    dataset: { author, messageId: String(message.id ?? "") },
  },
    el("div", { class: "msg-head" },
      el("span", { text: AUTHOR_LABELS[author] }),
      el("time", { attrs: { datetime: message.ts }, text: clock(message.ts, timeZone) }),
    ),
    el("p", { class: "msg-text", testid: "transcript-text", text: message.text || "" }),
    buttons.length ? el("p", { class: "msg-buttons", text: `Opciones mostradas: ${buttons.join(" · ")}` }) : null,
  );
}

function valueText(value) {
  if (value === null || value === undefined) return DASH;
  if (typeof value === "boolean") return value ? "Sí" : "No";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The bot's context: intent and slots, readable. */
export function contextBlock(context) {
  const data = context && typeof context === "object" ? context : {};
  const slots = data.slots && typeof data.slots === "object" ? data.slots : {};
  const rest = Object.entries(data).filter(([key]) => key !== "intent" && key !== "slots");
  const slotEntries = Object.entries(slots);
  return el("div", { testid: "conv-context" },
    el("dl", { class: "kv" },
      el("dt", { text: "Intención" }), el("dd", { testid: "conv-intent", text: valueText(data.intent) }),
      rest.map(([key, value]) => [el("dt", { text: key }), el("dd", { text: valueText(value) })]),
    ),
    el("h4", { class: "hint", text: "Datos que el bot recopiló" }),
    slotEntries.length
      ? el("dl", { class: "kv", testid: "conv-slots" },
        slotEntries.map(([key, value]) => [el("dt", { text: key }), el("dd", { text: valueText(value) })]))
      : el("p", { class: "hint", text: "Sin datos recopilados." }),
  );
}

export function noteItem(note, timeZone = TIMEZONE) {
  return el("li", { class: "note", testid: "note-item" },
    el("div", { class: "note-head" }, `${note.author} · `, el("time", { attrs: { datetime: note.ts }, text: dateTime(note.ts, timeZone) })),
    el("p", { class: "msg-text", text: note.text }),
  );
}

/** Options of a <select> from {code: label} (or [[code, label]]), with an optional first option. */
export function fillSelect(select, entries, { placeholder, keep = true } = {}) {
  const previous = select.value;
  const pairs = Array.isArray(entries) ? entries : Object.entries(entries || {});
  setChildren(select,
    placeholder !== undefined ? el("option", { value: "", text: placeholder }) : null,
    pairs.map(([code, text]) => el("option", { value: code, text })),
  );
  if (keep && pairs.some(([code]) => code === previous)) select.value = previous;
}

// ---------------------------------------------------------------- charts (Chart.js, vendored)

export const CHART_COLORS = {
  blue: "#1a56db",
  green: "#0b5d47",
  red: "#b3261e",
  amber: "#8a5a00",
  grey: "#58635e",
};

/**
 * A bar chart, or the same chart with new data. `datasets`: [{label, data, color}].
 * Throws when Chart.js did not load (the page shows the data table instead).
 */
export function barChart(existing, canvas, labels, datasets) {
  if (existing) {
    existing.data.labels = labels;
    datasets.forEach((set, index) => {
      existing.data.datasets[index].data = set.data;
    });
    existing.update("none");
    return existing;
  }
  if (!window.Chart) throw new Error("Chart.js no está disponible");
  return new window.Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: datasets.map((set) => ({
        label: set.label,
        data: set.data,
        backgroundColor: set.color,
        borderColor: set.color,
        borderWidth: 1,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: "es-MX",
      scales: {
        x: { ticks: { color: "#1b1f1d" }, grid: { display: false } },
        y: { beginAtZero: true, ticks: { precision: 0, color: "#1b1f1d" } },
      },
      plugins: {
        legend: { position: "bottom", labels: { color: "#1b1f1d" } },
        tooltip: { mode: "index", intersect: false },
      },
    },
  });
}

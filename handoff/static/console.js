// Ventanilla — agent console (/consola): presence, offers, queue, my conversations, transcript,
// replies with canned responses, internal notes, transfer and close. Live through SSE + polling.

import {
  ApiError, PRIORITY_LABELS, STATUS_LABELS, announce, api, channelLabels, coalesce,
  contextBlock, count, dateTime, duration, el, fillSelect, label, liveEvents, messageItem,
  noteItem, replaceChildrenKeepFocus, setLiveState, setChildren, showError, startPage, startTicking,
  tickElement, trackActivity,
} from "/static/staff.js";

const POLL_MS = 10000;
const MAX_SUGGESTIONS = 8;
const SELECTED_KEY = "ventanilla.consola.abierta";
const TRACKED_KEY = "ventanilla.consola.tomadas"; // conversations a supervisor took (no /mine for them)
const BASE_TITLE = document.title;

const state = {
  me: null,
  isAgent: false,
  campaigns: {},
  channels: {}, // code → name, from GET /api/channels
  dispositions: {},
  canned: [],
  queue: [],
  mine: [],
  offers: [],
  knownOffers: null,
  knownUrgent: null,
  unread: new Set(),
  presence: null,
  selectedId: null,
  conversation: null,
  reveal: false,
  renderedIds: new Set(),
  renderedKey: "",
  listsSeq: 0,
  convSeq: 0,
  live: null,
  stoppers: [],
};

const dom = {};

function campaignName(code) {
  return state.campaigns[code] || code;
}

function consoleError(error) {
  showError(dom.consoleError, error);
  if (error) dom.consoleError.scrollIntoView({ block: "nearest" });
}

// ---------------------------------------------------------------- presence

const STATUS_TEXT = {
  available: "Disponible: recibirás ofertas de conversación.",
  away: "Ausente: no recibirás ofertas. Tus conversaciones abiertas siguen contigo.",
  offline: "Desconectado: activa «Disponible» para recibir conversaciones.",
};

function renderPresence() {
  const status = state.presence ? state.presence.status : "";
  dom.statusToggle.setAttribute("aria-checked", status === "available" ? "true" : "false");
  dom.statusToggle.dataset.status = status;
  dom.statusToggle.disabled = !status;
  let text = STATUS_TEXT[status] || "Consultando tu estado…";
  if (status === "available" && state.presence.max_conversations) {
    text = `Disponible: recibirás ofertas (hasta ${state.presence.max_conversations} conversaciones a la vez).`;
  }
  dom.statusText.textContent = text;
}

async function refreshPresence({ fromEvent = false } = {}) {
  if (!state.isAgent) return;
  try {
    const before = state.presence && state.presence.status;
    state.presence = await api("/api/handoff/me/status");
    renderPresence();
    if (fromEvent && before && before !== state.presence.status) {
      announce(`Tu estado cambió: ${state.presence.status === "available" ? "Disponible" : state.presence.status === "away" ? "Ausente" : "Desconectado"}.`, { assertive: true });
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) showError(dom.statusError, error);
  }
}

async function toggleStatus() {
  const next = dom.statusToggle.getAttribute("aria-checked") === "true" ? "away" : "available";
  dom.statusToggle.disabled = true;
  showError(dom.statusError, null);
  try {
    await api("/api/handoff/me/status", { method: "PUT", body: { status: next } });
    state.presence = { ...(state.presence || {}), status: next };
    renderPresence();
    announce(next === "available" ? "Ahora estás disponible." : "Ahora estás ausente.");
    refreshLists();
  } catch (error) {
    showError(dom.statusError, error);
  } finally {
    dom.statusToggle.disabled = !state.presence;
  }
}

// ---------------------------------------------------------------- lists

function tracked() {
  try {
    const list = JSON.parse(sessionStorage.getItem(TRACKED_KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function setTracked(list) {
  sessionStorage.setItem(TRACKED_KEY, JSON.stringify(list));
}

function track(entry) {
  if (state.isAgent || !entry) return;
  setTracked([...tracked().filter((e) => e.id !== entry.id), entry]);
}

function untrack(id) {
  if (state.isAgent) return;
  setTracked(tracked().filter((e) => e.id !== id));
}

async function refreshLists() {
  const seq = ++state.listsSeq;
  try {
    const [queue, mine] = await Promise.all([
      api("/api/handoff/queue"),
      state.isAgent ? api("/api/handoff/mine") : Promise.resolve(tracked()),
    ]);
    if (seq !== state.listsSeq) return;
    state.queue = queue || [];
    const me = state.me.username;
    const offers = new Map();
    for (const entry of mine || []) if (entry.status === "offered") offers.set(entry.id, entry);
    for (const entry of state.queue) if (entry.status === "offered" && entry.offered_to === me) offers.set(entry.id, entry);
    state.offers = [...offers.values()];
    state.mine = (mine || []).filter((e) => e.status === "assigned");
    renderLists();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) consoleError(error);
  }
}

function waitLabel(entry) {
  const live = entry.status === "waiting" || entry.status === "offered";
  const node = el("span", { class: "wait", testid: `wait-${entry.id}` });
  if (live) tickElement(node, entry.waiting_seconds);
  else node.textContent = duration(entry.waiting_seconds);
  return el("span", {}, live ? "Espera " : "Esperó ", node);
}

function entryItem(entry, kind) {
  const selected = entry.id === state.selectedId;
  const offerToMe = kind === "offer";
  const testid = kind === "mine" ? `mine-item-${entry.id}` : `queue-item-${entry.id}`;
  const actions = [];
  if (offerToMe) {
    actions.push(
      el("button", { type: "button", class: "btn btn-primary btn-small", testid: `claim-${entry.id}`, text: "Aceptar", attrs: { "aria-label": `Aceptar la conversación ${entry.id}` }, on: { click: () => claim(entry.id) } }),
      el("button", { type: "button", class: "btn btn-danger btn-small", testid: `decline-${entry.id}`, text: "Rechazar", attrs: { "aria-label": `Rechazar la conversación ${entry.id}` }, on: { click: () => decline(entry.id) } }),
    );
  } else if (kind === "queue" && entry.status === "waiting") {
    actions.push(el("button", { type: "button", class: "btn btn-primary btn-small", testid: `claim-${entry.id}`, text: "Tomar", attrs: { "aria-label": `Tomar la conversación ${entry.id}` }, on: { click: () => claim(entry.id) } }));
  }
  if (kind !== "mine") {
    actions.push(el("button", { type: "button", class: "btn btn-small", testid: `view-${entry.id}`, text: "Ver", attrs: { "aria-label": `Ver la conversación ${entry.id}` }, on: { click: () => openConversation(entry.id, { focus: true }) } }));
  }
  const title = `#${entry.id} · ${campaignName(entry.campaign)}`;
  const head = el("div", { class: "item-top" },
    entry.priority !== "normal" ? el("span", { class: `badge badge-${entry.priority}`, testid: `priority-${entry.id}`, text: priorityText(entry) }) : null,
    el("span", { class: "item-title", text: title }),
    state.unread.has(entry.id) ? el("span", { class: "badge badge-new", testid: `unread-${entry.id}`, text: "Nuevo" }) : null,
  );
  const meta = el("div", { class: "item-meta" },
    el("span", { text: entry.sender }),
    el("span", { text: label(state.channels, entry.channel) }),
    entry.waiting_seconds !== undefined ? waitLabel(entry) : null,
    kind === "queue" && entry.status === "waiting" && entry.position ? el("span", { text: `Lugar ${entry.position}` }) : null,
    kind === "queue" && entry.status === "offered" ? el("span", { text: `Ofrecida a ${entry.offered_to || "otra persona"}` }) : null,
  );
  const summary = entry.summary ? el("p", { class: "item-summary", text: entry.summary }) : null;
  const body = kind === "mine"
    ? el("button", {
      type: "button", class: "open-btn", testid: `open-${entry.id}`,
      attrs: { "aria-current": selected ? "true" : null, "aria-label": `Abrir ${title}${state.unread.has(entry.id) ? " (actividad nueva)" : ""}` },
      on: { click: () => openConversation(entry.id, { focus: true }) },
    }, head, meta, summary)
    : [head, meta, summary];
  return el("li", {
    class: `item${offerToMe ? " item-offer" : ""}`,
    testid,
    dataset: { status: entry.status, priority: entry.priority, id: String(entry.id) },
    attrs: { "aria-current": selected ? "true" : null },
  }, body, actions.length ? el("div", { class: "item-actions" }, actions) : null);
}

/** "Urgente · Posible infarto": the emergency an urgent conversation answers, when known. */
function priorityText(entry) {
  const text = label(PRIORITY_LABELS, entry.priority);
  return entry.emergency ? `${text} · ${entry.emergency}` : text;
}

function emptyItem(text) {
  return el("li", { class: "empty", text });
}

function renderLists() {
  const offerIds = new Set(state.offers.map((e) => e.id));
  const queue = state.queue.filter((e) => !offerIds.has(e.id));

  // offers: announce new ones loudly
  const newOffers = state.knownOffers ? state.offers.filter((e) => !state.knownOffers.has(e.id)) : state.offers;
  state.knownOffers = offerIds;

  // a conversation of mine that became an emergency: say it loudly once
  const urgentMine = new Set(state.mine.filter((e) => e.priority === "urgent").map((e) => e.id));
  const newlyUrgent = state.knownUrgent ? state.mine.filter((e) => urgentMine.has(e.id) && !state.knownUrgent.has(e.id)) : [];
  state.knownUrgent = urgentMine;
  if (newlyUrgent.length) {
    const first = newlyUrgent[0];
    announce(`Emergencia en tu conversación #${first.id}: ${first.emergency || "urgente"}.`, { assertive: true });
  }
  if (newOffers.length) {
    const first = newOffers[0];
    announce(
      `Tienes ${newOffers.length === 1 ? "una oferta" : `${newOffers.length} ofertas`}: conversación #${first.id} de ${campaignName(first.campaign)}, prioridad ${label(PRIORITY_LABELS, first.priority).toLowerCase()}. Acepta o rechaza.`,
      { assertive: true },
    );
  }
  dom.offersSection.hidden = state.offers.length === 0;
  replaceChildrenKeepFocus(dom.offersList, state.offers.map((e) => entryItem(e, "offer")));

  replaceChildrenKeepFocus(dom.mineList, state.mine.length
    ? state.mine.map((e) => entryItem(e, "mine"))
    : [emptyItem("No atiendes ninguna conversación.")]);
  dom.mineCount.textContent = String(state.mine.length);

  replaceChildrenKeepFocus(dom.queueList, queue.length
    ? queue.map((e) => entryItem(e, "queue"))
    : [emptyItem(state.offers.length ? "No hay más conversaciones en espera." : "No hay conversaciones en espera.")]);
  dom.queueCount.textContent = String(queue.length);

  const pending = state.offers.length;
  document.title = pending ? `(${pending}) ${BASE_TITLE}` : BASE_TITLE;
}

// ---------------------------------------------------------------- actions on entries

async function claim(id) {
  consoleError(null);
  try {
    const entry = await api(`/api/handoff/conversations/${id}/claim`, { method: "POST" });
    track(entry);
    announce(`Tomaste la conversación #${id}.`);
    await openConversation(id, { focus: true });
  } catch (error) {
    consoleError(error);
  }
  refreshLists();
}

async function decline(id) {
  consoleError(null);
  try {
    await api(`/api/handoff/conversations/${id}/decline`, { method: "POST" });
    announce(`Rechazaste la conversación #${id}.`);
  } catch (error) {
    consoleError(error);
  }
  refreshLists();
}

async function takeNext() {
  consoleError(null);
  dom.queueStatus.textContent = "";
  dom.takeNext.disabled = true;
  try {
    const entry = await api("/api/handoff/next", { method: "POST" });
    if (!entry) {
      dom.queueStatus.textContent = "No hay conversaciones en espera.";
    } else {
      dom.queueStatus.textContent = `Tomaste la conversación #${entry.id}.`;
      await openConversation(entry.id, { focus: true });
    }
  } catch (error) {
    consoleError(error);
  } finally {
    dom.takeNext.disabled = false;
  }
  refreshLists();
}

// ---------------------------------------------------------------- the open conversation

function clearSelection(message) {
  state.selectedId = null;
  state.conversation = null;
  state.reveal = false;
  state.renderedKey = "";
  state.renderedIds = new Set();
  sessionStorage.removeItem(SELECTED_KEY);
  dom.convView.hidden = true;
  dom.convEmpty.hidden = false;
  hideSuggestions();
  if (message) announce(message);
  renderLists();
}

async function openConversation(id, { focus = false } = {}) {
  if (state.selectedId !== id) {
    state.reveal = false;
    state.renderedKey = "";
  }
  state.selectedId = id;
  state.unread.delete(id);
  sessionStorage.setItem(SELECTED_KEY, String(id));
  renderLists();
  await refreshConversation();
  if (focus && state.conversation && state.conversation.id === id) dom.convTitle.focus();
}

async function refreshConversation() {
  const id = state.selectedId;
  if (id === null) return;
  const seq = ++state.convSeq;
  try {
    const conversation = await api(`/api/handoff/conversations/${id}`, { query: state.reveal ? { reveal: "true" } : {} });
    if (seq !== state.convSeq || state.selectedId !== id) return;
    state.conversation = conversation;
    if (!state.isAgent) {
      if (conversation.status === "assigned" && conversation.agent === state.me.username) track(conversation);
      else untrack(conversation.id);
    }
    renderConversation();
  } catch (error) {
    if (seq !== state.convSeq) return;
    if (error instanceof ApiError && error.status === 404) {
      untrack(id);
      clearSelection("La conversación ya no está disponible para ti: se transfirió o ya no existe.");
      consoleError(error);
    } else if (!(error instanceof ApiError && error.status === 401)) {
      consoleError(error);
    }
  }
}

function renderConversation() {
  const c = state.conversation;
  dom.convEmpty.hidden = true;
  dom.convView.hidden = false;
  dom.convView.dataset.id = String(c.id);
  dom.convView.dataset.status = c.status;

  dom.convTitle.textContent = `Conversación #${c.id} · ${campaignName(c.campaign)}`;
  const live = c.status === "waiting" || c.status === "offered";
  const wait = el("span", { class: "wait" });
  if (live) tickElement(wait, c.waiting_seconds);
  else wait.textContent = duration(c.waiting_seconds);
  setChildren(dom.convMeta,
    el("span", {}, "Usuario: ", el("strong", { testid: "conv-sender", text: c.sender })),
    el("span", {}, "Canal: ", el("strong", { text: label(state.channels, c.channel) })),
    el("span", { class: c.priority === "urgent" ? "urgent-text" : null }, "Prioridad: ", el("strong", { testid: "conv-priority", text: priorityText(c) })),
    el("span", {}, "Estado: ", el("strong", { testid: "conv-status", text: label(STATUS_LABELS, c.status) })),
    el("span", {}, live ? "Espera: " : "Esperó: ", wait),
    c.agent ? el("span", {}, "Agente: ", el("strong", { text: c.agent })) : null,
    el("span", {}, "Inicio: ", el("strong", { text: dateTime(c.created_at) })),
    c.disposition ? el("span", {}, "Cierre: ", el("strong", { text: label(state.dispositions, c.disposition) })) : null,
  );

  dom.revealToggle.textContent = state.reveal ? "Ocultar datos personales" : "Mostrar datos personales";
  dom.revealToggle.setAttribute("aria-pressed", state.reveal ? "true" : "false");

  renderMessages(c);
  renderLimits(c);
  dom.convSummary.textContent = c.summary || "Sin resumen.";
  setChildren(dom.convContext, contextBlock(c.context));
  setChildren(dom.notesList, ...(c.notes.length ? c.notes.map((n) => noteItem(n)) : [el("li", { class: "hint", text: "Sin notas todavía." })]));

  // what may be done
  const mineNow = c.status === "assigned" && c.agent === state.me.username;
  const supervisor = state.me.role === "supervisor" || state.me.role === "admin";
  const manage = c.status === "assigned" && (mineNow || supervisor);
  setFormEnabled(dom.replyForm, mineNow);
  setFormEnabled(dom.transferForm, manage);
  setFormEnabled(dom.closeForm, manage);

  let notice = "";
  const actions = [];
  if (c.status === "waiting" || (c.status === "offered" && c.offered_to === state.me.username)) {
    notice = "Esta conversación está en la fila. Tómala para responder.";
    actions.push(el("button", { type: "button", class: "btn btn-primary btn-small", testid: "conv-claim", text: c.status === "offered" ? "Aceptar" : "Tomar", on: { click: () => claim(c.id) } }));
  } else if (c.status === "offered") {
    notice = `Esta conversación se está ofreciendo a ${c.offered_to || "otra persona"}.`;
  } else if (c.status === "assigned" && !mineNow) {
    notice = `La atiende ${c.agent}. Puedes leerla y dejar notas internas.`;
  } else if (c.status === "closed") {
    notice = `Conversación cerrada${c.disposition ? `: ${label(state.dispositions, c.disposition)}` : ""}.`;
  } else if (c.status === "abandoned" || c.status === "expired") {
    notice = `${label(STATUS_LABELS, c.status)}: el usuario ya no está en la fila.`;
  }
  setChildren(dom.convNotice, notice, actions.length ? " " : "", ...actions);
  dom.convNotice.hidden = !notice;

  const others = Object.entries(state.campaigns).filter(([code]) => code !== c.campaign);
  fillSelect(dom.transferCampaign, others, { placeholder: "Elige una campaña…" });
  fillSelect(dom.closeDisposition, state.dispositions, { placeholder: "Elige un código…" });
}

// --- the channel's limits: what an agent must know before writing -------------------------------

// GSM 03.38: an SMS carries 160 of these characters (the extension ones count twice); any other
// character (á, í, ó, ú, an emoji…) makes the whole message UCS-2, 70 to an SMS.
const GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION = "^{}\\[~]|€";

/** How many SMS a text takes (concatenated ones carry 153 or 67 characters each). */
function smsCount(text) {
  if (!text) return 0;
  let units = 0;
  for (const ch of text) {
    if (GSM7.includes(ch)) units += 1;
    else if (GSM7_EXTENSION.includes(ch)) units += 2;
    else return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
  }
  return units <= 160 ? 1 : Math.ceil(units / 153);
}

function hoursAndMinutes(ms) {
  const minutes = Math.max(0, Math.round(ms / 60000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h ? `${h} h ${m} min` : `${m} min`;
}

/** The window of WhatsApp or Messenger: open, closed or never opened, said in Spanish. */
function windowState(limits, now = Date.now()) {
  if (!limits || !limits.window_hours) return null;
  const hours = Math.round(limits.window_hours);
  const after = limits.template
    ? "tu respuesta irá como la plantilla aprobada del instituto."
    : "tu respuesta no llegará hasta que la persona vuelva a escribir.";
  if (!limits.window_closes_at) {
    return { state: "never", text: `${limits.name} solo permite escribir en las ${hours} horas que siguen al último mensaje de la persona, y no ha escrito: ${after}` };
  }
  const closes = new Date(limits.window_closes_at).getTime();
  if (closes > now) {
    return { state: "open", text: `Ventana de ${hours} horas de ${limits.name}: abierta hasta ${dateTime(limits.window_closes_at)} (quedan ${hoursAndMinutes(closes - now)}).` };
  }
  return { state: "closed", text: `La ventana de ${hours} horas de ${limits.name} se cerró el ${dateTime(limits.window_closes_at)}: ${after}` };
}

function renderLimits(c) {
  const limits = c.limits;
  let text = "";
  if (limits && limits.sms) {
    text = "SMS: 160 caracteres por mensaje, o 70 si lleva á, í, ó, ú u otros signos; una respuesta más larga llega en varios SMS.";
  } else if (limits && limits.max_text_chars) {
    text = `${limits.name}: hasta ${count(limits.max_text_chars)} caracteres por mensaje; una respuesta más larga llega en partes.`;
  }
  dom.channelLimits.textContent = text;
  dom.channelLimits.hidden = !text;
  const open = windowState(limits);
  dom.channelWindow.hidden = !open;
  dom.channelWindow.textContent = open ? open.text : "";
  dom.channelWindow.dataset.state = open ? open.state : "";
  dom.channelWindow.className = open && open.state !== "open" ? "alert" : "hint";
  updateCount();
}

/** Under the reply: its length, and what it costs on this channel (SMS, parts). */
function updateCount() {
  const limits = state.conversation && state.conversation.limits;
  const text = dom.replyInput.value.trim();
  if (!text) {
    dom.replyCount.textContent = "";
    return;
  }
  const said = [`${count(text.length)} caracteres`];
  if (limits && limits.sms) {
    const n = smsCount(text);
    said.push(n === 1 ? "1 SMS" : `${n} SMS`);
  } else if (limits && limits.max_text_chars && text.length > limits.max_text_chars) {
    said.push(`llegará en ${Math.ceil(text.length / limits.max_text_chars)} mensajes`);
  }
  dom.replyCount.textContent = said.join(" · ");
}

function setFormEnabled(form, enabled) {
  for (const control of form.querySelectorAll("textarea, select, button")) control.disabled = !enabled;
  form.dataset.enabled = enabled ? "true" : "false";
}

function renderMessages(c) {
  const key = `${c.id}:${state.reveal}`;
  const list = dom.messages;
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  if (key !== state.renderedKey) {
    // A fresh log element: its first content is not read out; only later additions are.
    const fresh = list.cloneNode(false);
    fresh.append(...c.messages.map((m) => messageItem(m)));
    if (!c.messages.length) fresh.append(el("p", { class: "hint", text: "Sin mensajes." }));
    list.replaceWith(fresh);
    dom.messages = fresh;
    state.renderedIds = new Set(c.messages.map((m) => m.id));
    state.renderedKey = key;
    fresh.scrollTop = fresh.scrollHeight;
    return;
  }
  appendMessages(c.messages);
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

function appendMessages(messages) {
  const list = dom.messages;
  const added = messages.filter((m) => !state.renderedIds.has(m.id));
  if (!added.length) return;
  const placeholder = list.querySelector(".hint");
  if (placeholder) placeholder.remove();
  for (const message of added) {
    state.renderedIds.add(message.id);
    list.append(messageItem(message));
  }
}

async function toggleReveal() {
  state.reveal = !state.reveal;
  await refreshConversation();
  announce(state.reveal ? "Se muestran los datos personales. Esta consulta quedó registrada." : "Los datos personales están ocultos.");
}

// ---------------------------------------------------------------- reply, canned responses, notes

const canned = { matches: [], active: -1 };

function cannedFor(campaign) {
  const byCode = new Map();
  for (const item of state.canned) if (item.campaign === "todas") byCode.set(item.code, item);
  for (const item of state.canned) if (item.campaign === campaign) byCode.set(item.code, item);
  return [...byCode.values()].sort((a, b) => a.code.localeCompare(b.code, "es"));
}

function updateSuggestions() {
  const value = dom.replyInput.value;
  const match = /^\/(\S*)$/.exec(value);
  if (!match || !state.conversation) {
    hideSuggestions();
    return;
  }
  const prefix = match[1].toLowerCase();
  const all = cannedFor(state.conversation.campaign);
  const matches = all.filter((c) => c.code.toLowerCase().startsWith(prefix)).slice(0, MAX_SUGGESTIONS);
  const before = canned.matches.map((c) => c.code).join();
  canned.matches = matches;
  if (canned.active >= matches.length) canned.active = -1;
  if (!matches.length) {
    hideSuggestions();
    return;
  }
  renderSuggestions();
  if (before !== matches.map((c) => c.code).join()) {
    announce(`${matches.length === 1 ? "1 respuesta rápida" : `${matches.length} respuestas rápidas`}. Usa las flechas para elegir y Enter para insertarla.`);
  }
}

function renderSuggestions() {
  setChildren(dom.cannedList, ...canned.matches.map((item, index) => el("li", {
    id: `canned-option-${index}`,
    testid: "canned-option",
    dataset: { code: item.code },
    attrs: { role: "option", "aria-selected": index === canned.active ? "true" : "false" },
    on: {
      mousedown: (event) => event.preventDefault(), // keep the focus in the textarea
      click: () => chooseSuggestion(index),
    },
  }, el("span", { class: "code", text: `/${item.code}` }), el("span", { text: item.text }))));
  dom.cannedList.hidden = false;
  if (canned.active >= 0) {
    dom.replyInput.setAttribute("aria-activedescendant", `canned-option-${canned.active}`);
    const option = document.getElementById(`canned-option-${canned.active}`);
    if (option) option.scrollIntoView({ block: "nearest" });
  } else {
    dom.replyInput.removeAttribute("aria-activedescendant");
  }
}

function hideSuggestions() {
  canned.matches = [];
  canned.active = -1;
  if (dom.cannedList) {
    dom.cannedList.hidden = true;
    setChildren(dom.cannedList);
    dom.replyInput.removeAttribute("aria-activedescendant");
  }
}

function chooseSuggestion(index) {
  const item = canned.matches[index];
  if (!item) return;
  dom.replyInput.value = item.text;
  hideSuggestions();
  dom.replyInput.focus();
  dom.replyInput.setSelectionRange(item.text.length, item.text.length);
  announce(`Respuesta rápida /${item.code} insertada. Revísala y presiona Enter para enviarla.`);
}

function onReplyKeydown(event) {
  const open = !dom.cannedList.hidden && canned.matches.length > 0;
  if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    const n = canned.matches.length;
    canned.active = event.key === "ArrowDown" ? (canned.active + 1) % n : (canned.active - 1 + n) % n;
    renderSuggestions();
    return;
  }
  if (open && event.key === "Escape") {
    event.preventDefault();
    hideSuggestions();
    return;
  }
  if (open && canned.active >= 0 && (event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
    event.preventDefault();
    chooseSuggestion(canned.active);
    return;
  }
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    dom.replyForm.requestSubmit();
  }
}

async function sendReply(event) {
  event.preventDefault();
  const c = state.conversation;
  const text = dom.replyInput.value.trim();
  showError(dom.replyError, null);
  if (!c) return;
  if (!text) {
    dom.replyError.textContent = "Escribe una respuesta antes de enviar.";
    dom.replyInput.focus();
    return;
  }
  dom.replySend.disabled = true;
  try {
    const message = await api(`/api/handoff/conversations/${c.id}/messages`, { method: "POST", body: { text } });
    dom.replyInput.value = "";
    updateCount();
    hideSuggestions();
    if (state.selectedId === c.id && message) {
      appendMessages([message]);
      dom.messages.scrollTop = dom.messages.scrollHeight;
    }
  } catch (error) {
    showError(dom.replyError, error);
  } finally {
    dom.replySend.disabled = dom.replyForm.dataset.enabled !== "true";
    dom.replyInput.focus();
  }
}

async function sendNote(event) {
  event.preventDefault();
  const c = state.conversation;
  const text = dom.noteInput.value.trim();
  showError(dom.noteError, null);
  if (!c) return;
  if (!text) {
    dom.noteError.textContent = "Escribe la nota antes de guardarla.";
    dom.noteInput.focus();
    return;
  }
  dom.noteSend.disabled = true;
  try {
    const note = await api(`/api/handoff/conversations/${c.id}/notes`, { method: "POST", body: { text } });
    dom.noteInput.value = "";
    if (state.selectedId === c.id && note) {
      const placeholder = dom.notesList.querySelector("li.hint");
      if (placeholder) placeholder.remove();
      if (!dom.notesList.querySelector(`[data-note-id="${note.id}"]`)) {
        const item = noteItem(note);
        item.dataset.noteId = String(note.id);
        dom.notesList.append(item);
      }
    }
    announce("Nota interna guardada.");
  } catch (error) {
    showError(dom.noteError, error);
  } finally {
    dom.noteSend.disabled = false;
  }
}

async function transfer(event) {
  event.preventDefault();
  const c = state.conversation;
  const campaign = dom.transferCampaign.value;
  showError(dom.transferError, null);
  if (!c) return;
  if (!campaign) {
    dom.transferError.textContent = "Elige la campaña a la que quieres transferir.";
    dom.transferCampaign.focus();
    return;
  }
  dom.transferSubmit.disabled = true;
  try {
    await api(`/api/handoff/conversations/${c.id}/transfer`, { method: "POST", body: { campaign } });
    untrack(c.id);
    clearSelection();
    dom.queueStatus.textContent = `Conversación #${c.id} transferida a ${campaignName(campaign)}.`;
    dom.convEmptyTitle.focus();
  } catch (error) {
    showError(dom.transferError, error);
    dom.transferSubmit.disabled = false;
  }
  refreshLists();
}

async function closeConversation(event) {
  event.preventDefault();
  const c = state.conversation;
  const disposition = dom.closeDisposition.value;
  showError(dom.closeError, null);
  if (!c) return;
  if (!disposition) {
    dom.closeError.textContent = "Elige el código de cierre.";
    dom.closeDisposition.focus();
    return;
  }
  dom.closeSubmit.disabled = true;
  try {
    await api(`/api/handoff/conversations/${c.id}/close`, { method: "POST", body: { disposition } });
    untrack(c.id);
    clearSelection();
    dom.queueStatus.textContent = `Conversación #${c.id} cerrada: ${label(state.dispositions, disposition)}.`;
    dom.convEmptyTitle.focus();
  } catch (error) {
    showError(dom.closeError, error);
    dom.closeSubmit.disabled = false;
  }
  refreshLists();
}

// ---------------------------------------------------------------- live updates

function onEvent(type, data) {
  scheduleLists();
  const id = data && data.handoff_id;
  if (type === "presence" && data && data.agent === state.me.username) refreshPresence({ fromEvent: true });
  if (id !== undefined && id !== null && id === state.selectedId) {
    scheduleConversation();
  } else if (type === "conversation" && state.mine.some((e) => e.id === id)) {
    if (!state.unread.has(id)) announce(`Actividad nueva en la conversación #${id}.`);
    state.unread.add(id);
    renderLists();
  }
}

const scheduleLists = coalesce(() => refreshLists(), 300);
const scheduleConversation = coalesce(() => refreshConversation(), 300);

// ---------------------------------------------------------------- start / stop

async function loadReference() {
  const [campaigns, dispositions, cannedList, channels] = await Promise.all([
    api("/api/handoff/campaigns"),
    api("/api/handoff/dispositions"),
    api("/api/handoff/canned").catch(() => []),
    channelLabels(),
  ]);
  state.campaigns = campaigns || {};
  state.channels = channels;
  state.dispositions = dispositions || {};
  state.canned = cannedList || [];
}

function bind() {
  const ids = {
    consoleError: "console-error", statusToggle: "status-toggle", statusText: "status-text",
    statusError: "status-error", presenceSection: "presence-section", offersSection: "offers-section",
    offersList: "offers-list", mineList: "mine-list", mineCount: "mine-count", mineHint: "mine-hint",
    queueList: "queue-list", queueCount: "queue-count", queueStatus: "queue-status", takeNext: "take-next",
    convEmpty: "conv-empty", convEmptyTitle: "conv-empty-title", convView: "conv-view", convTitle: "conv-title",
    convMeta: "conv-meta", convNotice: "conv-notice", revealToggle: "reveal-toggle", messages: "messages",
    replyForm: "reply-form", replyInput: "reply-input", replySend: "reply-send", replyError: "reply-error",
    cannedList: "canned-list", noteForm: "note-form", noteInput: "note-input", noteSend: "note-send",
    noteError: "note-error", convSummary: "conv-summary", convContext: "conv-context", notesList: "notes-list",
    transferForm: "transfer-form", transferCampaign: "transfer-campaign", transferSubmit: "transfer-submit",
    transferError: "transfer-error", closeForm: "close-form", closeDisposition: "close-disposition",
    closeSubmit: "close-submit", closeError: "close-error",
    replyCount: "reply-count", channelLimits: "channel-limits", channelWindow: "channel-window",
  };
  for (const [key, id] of Object.entries(ids)) dom[key] = document.getElementById(id);

  dom.statusToggle.addEventListener("click", toggleStatus);
  dom.takeNext.addEventListener("click", takeNext);
  dom.revealToggle.addEventListener("click", toggleReveal);
  dom.replyForm.addEventListener("submit", sendReply);
  dom.replyInput.addEventListener("input", updateSuggestions);
  dom.replyInput.addEventListener("input", updateCount);
  state.knownOffers = null;
  state.knownUrgent = null;
  dom.replyInput.addEventListener("blur", () => window.setTimeout(hideSuggestions, 150));
  dom.noteForm.addEventListener("submit", sendNote);
  dom.noteInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      dom.noteForm.requestSubmit();
    }
  });
  dom.transferForm.addEventListener("submit", transfer);
  dom.closeForm.addEventListener("submit", closeConversation);
}

function start(me) {
  state.me = me;
  state.isAgent = me.role === "agent";
  state.knownOffers = null;
  state.unread = new Set();
  dom.presenceSection.hidden = !state.isAgent;
  dom.takeNext.hidden = !state.isAgent;
  dom.mineHint.hidden = state.isAgent;
  dom.mineHint.textContent = state.isAgent ? "" : "Como supervisión ves aquí las conversaciones que tomaste desde esta pestaña.";
  startTicking();

  let stopped = false;
  const timers = [];
  (async () => {
    try {
      await loadReference();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) consoleError(error);
    }
    if (stopped) return;
    await Promise.all([refreshLists(), refreshPresence()]);
    const previous = Number(sessionStorage.getItem(SELECTED_KEY));
    if (!stopped && previous && state.selectedId === null) openConversation(previous);
  })();

  state.live = liveEvents(["queue", "conversation", "presence"], onEvent, setLiveState);
  timers.push(window.setInterval(() => {
    refreshLists();
    if (state.isAgent) refreshPresence({ fromEvent: true });
    if (!state.live.isOpen()) refreshConversation();
  }, POLL_MS));
  const stopActivity = trackActivity();

  return () => {
    stopped = true;
    state.live.close();
    for (const timer of timers) window.clearInterval(timer);
    stopActivity();
    state.listsSeq++;
    state.convSeq++;
    state.selectedId = null;
    state.conversation = null;
    state.renderedKey = "";
    state.renderedIds = new Set();
    state.queue = [];
    state.mine = [];
    state.offers = [];
    dom.convView.hidden = true;
    dom.convEmpty.hidden = false;
    dom.queueStatus.textContent = "";
    consoleError(null);
    sessionStorage.removeItem(SELECTED_KEY);
    sessionStorage.removeItem(TRACKED_KEY);
    document.title = BASE_TITLE;
  };
}

bind();
startPage({ page: "consola", roles: ["agent", "supervisor", "admin"], start });

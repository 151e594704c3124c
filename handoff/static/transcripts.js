// Ventanilla — transcript search (/supervision/transcripciones): filters, results, one transcript,
// CSV / JSON export links with the same filters.

import {
  ApiError, DASH, PRIORITY_LABELS, STATUS_LABELS, announce, api, channelLabels, contextBlock,
  dateTime, formFilters, duration, el, fillSelect, label, messageItem, noteItem, queryString, setChildren, showError,
  startPage,
} from "/static/staff.js";

const ENDPOINT = "/api/handoff/transcripts";
const FIELDS = ["campaign", "date_from", "date_to", "channel", "disposition", "q"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const dom = {};
const state = { campaigns: {}, channels: {}, dispositions: {}, openId: null, reveal: false, searchSeq: 0, viewSeq: 0, opener: null };

function campaignName(code) {
  return state.campaigns[code] || code;
}

function fillForm(filters) {
  for (const field of FIELDS) {
    const control = dom.form.elements.namedItem(field);
    if (control) control.value = filters[field] || "";
  }
}

function setExportLinks(filters) {
  dom.exportCsv.href = ENDPOINT + queryString({ ...filters, format: "csv" });
  dom.exportJson.href = ENDPOINT + queryString({ ...filters, format: "json" });
}

function validate(filters) {
  for (const [field, name] of [["date_from", "Desde"], ["date_to", "Hasta"]]) {
    if (filters[field] && !DATE.test(filters[field])) return `La fecha «${name}» debe tener el formato AAAA-MM-DD.`;
  }
  if (filters.date_from && filters.date_to && filters.date_from > filters.date_to) {
    return "La fecha «Desde» no puede ser posterior a «Hasta».";
  }
  return null;
}

async function search({ updateUrl = true } = {}) {
  const filters = formFilters(dom.form, FIELDS);
  const problem = validate(filters);
  dom.formError.textContent = problem || "";
  if (problem) return;
  if (updateUrl) history.replaceState(null, "", location.pathname + queryString(filters));
  setExportLinks(filters);
  const seq = ++state.searchSeq;
  dom.count.textContent = "Buscando…";
  try {
    const data = await api(ENDPOINT, { query: filters });
    if (seq !== state.searchSeq) return;
    renderResults(data);
  } catch (error) {
    if (seq !== state.searchSeq) return;
    dom.count.textContent = "";
    if (!(error instanceof ApiError && error.status === 401)) showError(dom.formError, error);
  }
}

function csatText(value) {
  return value === null || value === undefined ? DASH : `${value} de 5`;
}

function renderResults(data) {
  const results = data.results || [];
  const total = data.total ?? results.length;
  dom.count.textContent = total === 0
    ? "No hay conversaciones con esos filtros."
    : `${total === 1 ? "1 conversación" : `${total} conversaciones`}${total >= 500 ? " (se muestran las 500 más recientes; usa filtros para acotar)" : ""}.`;
  dom.count.dataset.total = String(total);
  setChildren(dom.results, ...results.map((r) => el("tr", { testid: `transcript-row-${r.id}` },
    el("td", {}, el("button", {
      type: "button", class: "btn-link", testid: `transcript-open-${r.id}`, text: `#${r.id}`,
      attrs: { "aria-label": `Abrir la transcripción ${r.id}` },
      on: { click: (event) => openTranscript(r.id, event.currentTarget) },
    })),
    el("td", { class: "text", text: dateTime(r.created_at) }),
    el("td", { class: "text", text: campaignName(r.campaign) }),
    el("td", { class: "text", text: label(state.channels, r.channel) }),
    el("td", { class: "text", text: r.sender }),
    el("td", { class: "text", text: label(STATUS_LABELS, r.status) }),
    el("td", { class: "text", text: label(state.dispositions, r.disposition) }),
    el("td", { class: "text", text: r.agent || DASH }),
    el("td", { text: csatText(r.csat) }),
    el("td", { class: "text", text: r.snippet || "" }),
  )));
}

async function openTranscript(id, opener) {
  if (state.openId !== id) state.reveal = false;
  state.openId = id;
  if (opener) state.opener = opener;
  await loadTranscript({ focus: true });
}

async function loadTranscript({ focus = false } = {}) {
  const id = state.openId;
  const seq = ++state.viewSeq;
  showError(dom.viewerError, null);
  try {
    const c = await api(`/api/handoff/conversations/${id}`, { query: state.reveal ? { reveal: "true" } : {} });
    if (seq !== state.viewSeq) return;
    renderTranscript(c);
    if (focus) {
      dom.viewer.scrollIntoView({ block: "start" });
      dom.viewerTitle.focus({ preventScroll: true });
    }
  } catch (error) {
    if (seq !== state.viewSeq) return;
    if (!(error instanceof ApiError && error.status === 401)) {
      dom.viewer.hidden = false;
      showError(dom.viewerError, error);
    }
  }
}

function renderTranscript(c) {
  dom.viewer.hidden = false;
  dom.viewer.dataset.id = String(c.id);
  dom.viewerTitle.textContent = `Transcripción #${c.id} · ${campaignName(c.campaign)}`;
  setChildren(dom.viewerMeta,
    el("span", {}, "Usuario: ", el("strong", { testid: "conv-sender", text: c.sender })),
    el("span", {}, "Canal: ", el("strong", { text: label(state.channels, c.channel) })),
    el("span", {}, "Prioridad: ", el("strong", { text: label(PRIORITY_LABELS, c.priority) })),
    el("span", {}, "Estado: ", el("strong", { testid: "conv-status", text: label(STATUS_LABELS, c.status) })),
    el("span", {}, "Cierre: ", el("strong", { text: label(state.dispositions, c.disposition) })),
    el("span", {}, "Agente: ", el("strong", { text: c.agent || DASH })),
    el("span", {}, "Inicio: ", el("strong", { text: dateTime(c.created_at) })),
    el("span", {}, "Tomada: ", el("strong", { text: dateTime(c.assigned_at) })),
    el("span", {}, "Cerrada: ", el("strong", { text: dateTime(c.closed_at) })),
    el("span", {}, "Espera: ", el("strong", { text: duration(c.waiting_seconds) })),
    el("span", {}, "CSAT: ", el("strong", { text: csatText(c.csat) })),
  );
  dom.reveal.textContent = state.reveal ? "Ocultar datos personales" : "Mostrar datos personales";
  dom.reveal.setAttribute("aria-pressed", state.reveal ? "true" : "false");
  setChildren(dom.messages, ...(c.messages.length
    ? c.messages.map((m) => messageItem(m))
    : [el("p", { class: "hint", text: "Sin mensajes." })]));
  dom.summary.textContent = c.summary || "Sin resumen.";
  setChildren(dom.context, contextBlock(c.context));
  setChildren(dom.notes, ...(c.notes.length ? c.notes.map((n) => noteItem(n)) : [el("li", { class: "hint", text: "Sin notas." })]));
}

function closeViewer() {
  dom.viewer.hidden = true;
  state.openId = null;
  state.reveal = false;
  const opener = state.opener && document.contains(state.opener) ? state.opener : dom.count;
  if (opener === dom.count) dom.count.setAttribute("tabindex", "-1");
  opener.focus();
}

async function loadOptions(me) {
  const [campaigns, dispositions, channels] = await Promise.all([
    api("/api/handoff/campaigns"),
    api("/api/handoff/dispositions"),
    channelLabels(),
  ]);
  state.campaigns = campaigns || {};
  state.channels = channels;
  state.dispositions = dispositions || {};
  const scope = me.role === "supervisor" && me.campaigns && me.campaigns.length ? me.campaigns : null;
  const campaignOptions = Object.entries(state.campaigns).filter(([code]) => !scope || scope.includes(code));
  fillSelect(dom.campaign, campaignOptions, { placeholder: "Todas" });
  fillSelect(dom.channel, state.channels, { placeholder: "Todos" });
  fillSelect(dom.disposition, state.dispositions, { placeholder: "Todos" });
}

function start(me) {
  let stopped = false;
  (async () => {
    try {
      await loadOptions(me);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showError(dom.formError, error);
      return;
    }
    if (stopped) return;
    const params = new URLSearchParams(location.search);
    fillForm(Object.fromEntries(FIELDS.map((f) => [f, params.get(f) || ""])));
    await search({ updateUrl: false });
  })();
  return () => {
    stopped = true;
    state.searchSeq++;
    state.viewSeq++;
    setChildren(dom.results);
    dom.viewer.hidden = true;
    dom.count.textContent = "";
  };
}

for (const [key, id] of Object.entries({
  form: "filters", formError: "filters-error", campaign: "f-campaign", channel: "f-channel",
  disposition: "f-disposition", reset: "filter-reset", count: "results-count", results: "results",
  exportCsv: "export-csv", exportJson: "export-json", viewer: "viewer", viewerTitle: "viewer-title",
  viewerMeta: "viewer-meta", viewerError: "viewer-error", reveal: "viewer-reveal", close: "viewer-close",
  messages: "viewer-messages", summary: "viewer-summary", context: "viewer-context", notes: "viewer-notes",
})) dom[key] = document.getElementById(id);

dom.form.addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
dom.reset.addEventListener("click", () => {
  fillForm({});
  search();
  announce("Filtros borrados.");
});
dom.reveal.addEventListener("click", async () => {
  state.reveal = !state.reveal;
  await loadTranscript();
  announce(state.reveal ? "Se muestran los datos personales. Esta consulta quedó registrada." : "Los datos personales están ocultos.");
});
dom.close.addEventListener("click", closeViewer);

startPage({ page: "transcripciones", roles: ["supervisor", "admin"], start });

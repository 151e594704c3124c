// Ventanilla — supervisor dashboard (/supervision): live figures per campaign and per channel, containment and
// today's handoffs by hour, and on top the unattended emergencies. Refreshed by the live events
// (SSE) and every 15 s.

import {
  ApiError, CHART_COLORS, DASH, announce, api, barChart, channelLabels, clock, coalesce, count, dateTime, duration,
  el, label, liveEvents, percent, replaceChildrenKeepFocus, setLiveState, setChildren, showError, startPage,
  startTicking, tickElement,
} from "/static/staff.js";

const REFRESH_MS = 15000;
// Emergencies that ended with nobody attending stay listed for a day (handoff/emergencies.py).
const EMERGENCY_STATES = {
  abandoned: "Salió sin ser atendida",
  expired: "Venció sin atención",
};
const ALL = "__all__";

// [field, header, format, expansion of an abbreviated header]
const COLUMNS = [
  ["waiting", "En espera", "count"],
  ["longest_wait_seconds", "Espera más larga", "wait"],
  ["agents_online", "Agentes en línea", "count"],
  ["agents_busy", "Agentes ocupados", "count"],
  ["queued", "Recibidas en fila", "count"],
  ["answered", "Atendidas", "count"],
  ["answered_within", "Atendidas a tiempo", "count"],
  ["service_level", "Nivel de servicio", "percent"],
  ["threshold_seconds", "Umbral NS", "seconds", "Umbral del nivel de servicio: segundos para la primera respuesta"],
  ["asa_seconds", "ASA", "duration", "Tiempo promedio de respuesta"],
  ["abandoned", "Abandonadas", "count"],
  ["abandonment_rate", "Abandono", "percent"],
  ["expired", "Vencidas (regresaron al bot)", "count"],
  ["closed", "Cerradas", "count"],
  ["aht_seconds", "TMO", "duration", "Tiempo medio de operación (AHT)"],
  ["csat", "CSAT", "percent", "Satisfacción: respuestas 4 o 5"],
  ["csat_responses", "Encuestas respondidas", "count"],
  ["unavailable", "Sin agente u horario", "count"],
];

// The handoffs of today per channel (WhatsApp, SMS, web chat, …): flow figures only.
const CHANNEL_COLUMNS = COLUMNS.filter(([field]) => [
  "queued", "answered", "service_level", "asa_seconds", "abandoned", "abandonment_rate", "expired",
  "closed", "aht_seconds", "csat",
].includes(field));

const dom = {};
let chart = null;
let seq = 0;
let knownEmergencies = null; // ids already shown: a new one is announced

function cell(figures, [field, , format], header = false) {
  const value = figures[field];
  const node = el(header ? "th" : "td", {
    testid: `fig-${figures.campaign}-${field}`,
    dataset: { value: value === null || value === undefined ? "" : String(value) },
  });
  if (format === "wait" && value !== null && value !== undefined && figures.waiting > 0) {
    tickElement(node, value);
  } else if (format === "wait" || format === "duration") {
    node.textContent = duration(value);
  } else if (format === "percent") {
    node.textContent = percent(value);
  } else if (format === "seconds") {
    node.textContent = value === null || value === undefined ? DASH : `${value} s`;
  } else {
    node.textContent = count(value);
  }
  return node;
}

function row(figures, { total = false } = {}) {
  return el("tr", { testid: `row-${figures.campaign}`, class: total ? "total" : null },
    el("th", { scope: "row", class: "sticky", testid: `fig-${figures.campaign}-name`, text: figures.name || figures.campaign }),
    COLUMNS.map((column) => cell(figures, column)),
  );
}

function renderHead() {
  setChildren(dom.head, el("tr", {},
    el("th", { scope: "col", class: "sticky", text: "Campaña" }),
    COLUMNS.map(([field, text, , title]) => el("th", { scope: "col", dataset: { field } },
      title ? el("abbr", { title, text }) : text)),
  ));
}

function render(data) {
  const tz = data.timezone || undefined;
  dom.updated.textContent = `Actualizado a las ${clock(data.generated_at, tz)}`;
  dom.period.textContent = `Cifras de hoy desde las ${clock(data.since, tz)} (${data.timezone || "hora local"}). «En espera», «Espera más larga» y los agentes son en vivo.`;

  const campaigns = data.campaigns || [];
  replaceChildrenKeepFocus(dom.rows, campaigns.length
    ? campaigns.map((f) => row(f))
    : [el("tr", {}, el("td", { colSpan: COLUMNS.length + 1, class: "text", text: "Sin actividad hoy en tus campañas." }))]);
  setChildren(dom.total, row({ ...data.total, campaign: ALL, name: data.total.name || "Total" }, { total: true }));

  const containment = data.containment || {};
  setFigure("fig-containment-rate", containment.rate, percent(containment.rate));
  setFigure("fig-containment-conversations", containment.conversations, count(containment.conversations));
  setFigure("fig-containment-bot_resolved", containment.bot_resolved, count(containment.bot_resolved));

  renderChannels(data.channels || []);
  renderHourly(data.hourly || []);
}

function renderChannels(channels) {
  replaceChildrenKeepFocus(dom.channelRows, channels.length
    ? channels.map((f) => el("tr", { testid: `channel-row-${f.channel}` },
      el("th", { scope: "row", text: f.name || f.channel }),
      CHANNEL_COLUMNS.map((column) => cell({ ...f, campaign: `canal-${f.channel}` }, column))))
    : [el("tr", {}, el("td", { colSpan: CHANNEL_COLUMNS.length + 1, class: "text", text: "Sin pases a agente hoy." }))]);
}

function setFigure(testid, value, text) {
  const node = document.querySelector(`[data-testid="${testid}"]`);
  node.textContent = text;
  node.dataset.value = value === null || value === undefined ? "" : String(value);
}

function hourLabel(hour) {
  return `${String(hour).padStart(2, "0")}:00`;
}

function renderHourly(hours) {
  setChildren(dom.hourlyRows, ...hours.map((h) => el("tr", { testid: `hour-${h.hour}` },
    el("th", { scope: "row", text: hourLabel(h.hour) }),
    el("td", { text: count(h.queued) }),
    el("td", { text: count(h.answered) }),
    el("td", { text: count(h.abandoned) }),
    el("td", { text: count(h.closed) }),
  )));
  try {
    chart = barChart(chart, dom.chart, hours.map((h) => hourLabel(h.hour)), [
      { label: "Recibidas", data: hours.map((h) => h.queued), color: CHART_COLORS.blue },
      { label: "Atendidas", data: hours.map((h) => h.answered), color: CHART_COLORS.green },
      { label: "Abandonadas", data: hours.map((h) => h.abandoned), color: CHART_COLORS.red },
    ]);
    dom.chartError.textContent = "";
  } catch {
    dom.chartError.textContent = "No se pudo dibujar la gráfica; los datos están en la tabla «Ver los datos de la gráfica».";
  }
}

function renderFailed(rows, channels) {
  replaceChildrenKeepFocus(dom.failedRows, rows.length
    ? rows.map((r) => el("tr", { testid: `failed-${r.id}` },
      el("td", { text: dateTime(r.failed_at || r.created_at) }),
      el("td", { text: label(channels, r.channel) }),
      el("td", { text: r.sender }),
      el("td", { class: "text", text: r.text }),
      el("td", { class: "text", text: r.error || DASH }),
      el("td", { text: count(r.attempts) }),
    ))
    : [el("tr", {}, el("td", { colSpan: 6, class: "text", text: "Ningún mensaje sin entregar." }))]);
}

function renderEmergencies(rows, channels) {
  dom.emergencies.dataset.count = String(rows.length);
  dom.emergenciesCount.textContent = String(rows.length);
  dom.emergencies.classList.toggle("has-emergencies", rows.length > 0);
  const ids = new Set(rows.map((r) => r.id));
  const fresh = knownEmergencies ? rows.filter((r) => !knownEmergencies.has(r.id)) : [];
  knownEmergencies = ids;
  if (fresh.length) {
    announce(`Emergencia sin atender: ${fresh[0].reason}, ${fresh[0].campaign_name}.`, { assertive: true });
  }
  replaceChildrenKeepFocus(dom.emergencyRows, rows.length
    ? rows.map((r) => el("tr", { testid: `emergency-${r.id}`, dataset: { kind: r.kind || "" } },
      el("th", { scope: "row" }, el("span", { class: "badge badge-urgent", text: r.reason })),
      el("td", { text: r.campaign_name }),
      EMERGENCY_STATES[r.status]
        ? el("td", { testid: `emergency-wait-${r.id}`, text: `${Math.round(r.waiting_seconds / 60)} min` })
        : tickElement(el("td", { testid: `emergency-wait-${r.id}` }), r.waiting_seconds),
      el("td", { text: label(channels, r.channel) }),
      el("td", { text: r.sender }),
      el("td", { text: EMERGENCY_STATES[r.status] ? EMERGENCY_STATES[r.status] : (r.status === "offered" ? `Ofrecida a ${r.offered_to || "un agente"}` : "En espera") }),
      el("td", {}, el("a", { href: "/consola", text: `#${r.id}`, attrs: { "aria-label": `Abrir la consola para la conversación ${r.id}` } })),
    ))
    : [el("tr", {}, el("td", { colSpan: 7, class: "text", text: "Ninguna emergencia sin atender." }))]);
}

async function refresh() {
  const mine = ++seq;
  try {
    const [data, urgent, failed, channels] = await Promise.all([
      api("/api/handoff/dashboard"),
      api("/api/handoff/emergencies"),
      api("/api/handoff/deliveries/failed", { query: { limit: 50 } }),
      channelLabels(),
    ]);
    if (mine !== seq) return;
    showError(dom.error, null);
    renderEmergencies(urgent || [], channels);
    render(data);
    renderFailed(failed || [], channels);
  } catch (error) {
    if (mine === seq && !(error instanceof ApiError && error.status === 401)) showError(dom.error, error);
  }
}

function start() {
  startTicking();
  renderHead();
  setChildren(dom.channelHead, el("tr", {},
    el("th", { scope: "col", text: "Canal" }),
    CHANNEL_COLUMNS.map(([field, text, , title]) => el("th", { scope: "col", dataset: { field } },
      title ? el("abbr", { title, text }) : text))));
  refresh();
  const scheduled = coalesce(refresh, 2000);
  const live = liveEvents(["queue", "conversation", "presence"], scheduled, setLiveState);
  const timer = window.setInterval(refresh, REFRESH_MS);
  const onClick = () => refresh();
  dom.refresh.addEventListener("click", onClick);
  return () => {
    live.close();
    window.clearInterval(timer);
    dom.refresh.removeEventListener("click", onClick);
    seq++;
  };
}

for (const [key, id] of Object.entries({
  head: "dash-head", rows: "dash-rows", total: "dash-total", updated: "dash-updated",
  period: "dash-period", error: "dash-error", refresh: "dash-refresh", chart: "hourly-chart",
  chartError: "chart-error", hourlyRows: "hourly-rows", failedRows: "failed-rows",
  emergencies: "emergencies", emergenciesCount: "emergencies-count", emergencyRows: "emergencies-rows",
  channelHead: "channel-head", channelRows: "channel-rows",
})) dom[key] = document.getElementById(id);

startPage({ page: "supervision", roles: ["supervisor", "admin"], start });

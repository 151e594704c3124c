// Ventanilla — monthly report (/supervision/reporte): per-campaign table, bar chart, CSV download.

import {
  ApiError, CHART_COLORS, api, barChart, count, duration, el, localDate, percent,
  queryString, setChildren, showError, startPage,
} from "/static/staff.js";

const ENDPOINT = "/api/handoff/reports/monthly";
const ALL = "__all__";
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const MONTH_NAMES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
  "septiembre", "octubre", "noviembre", "diciembre"];

// [field, format]
const COLUMNS = [
  ["conversations", "count"],
  ["bot_resolved", "count"],
  ["handoffs", "count"],
  ["answered", "count"],
  ["abandoned", "count"],
  ["handled_seconds", "duration"],
  ["aht_seconds", "duration"],
  ["service_level", "percent"],
  ["csat", "percent"],
];

const dom = {};
let chart = null;
let seq = 0;

function monthText(month) {
  const [year, number] = month.split("-");
  return `${MONTH_NAMES[Number(number) - 1]} de ${year}`;
}

function cell(row, [field, format], key = row.campaign) {
  const value = row[field];
  const text = format === "duration" ? duration(value) : format === "percent" ? percent(value) : count(value);
  return el("td", {
    testid: `rep-${key}-${field}`,
    dataset: { value: value === null || value === undefined ? "" : String(value) },
    text,
  });
}

function tableRow(row) {
  const total = row.campaign === ALL;
  return el("tr", { testid: `rep-row-${row.campaign}`, class: total ? "total" : null },
    el("th", { scope: "row", class: "sticky", text: total ? "Total" : row.name || row.campaign }),
    COLUMNS.map((column) => cell(row, column)),
  );
}

// The same figures per channel (WhatsApp, SMS, web chat, …).
function channelRow(row) {
  const key = `canal-${row.channel}`;
  return el("tr", { testid: `rep-row-${key}` },
    el("th", { scope: "row", class: "sticky", text: row.name || row.channel }),
    COLUMNS.map((column) => cell(row, column, key)),
  );
}

function render(data) {
  const rows = data.rows || [];
  const campaigns = rows.filter((r) => r.campaign !== ALL);
  const total = rows.find((r) => r.campaign === ALL);
  dom.caption.textContent = `Reporte de ${monthText(data.month)}${data.timezone ? ` (${data.timezone})` : ""}`;
  setChildren(dom.rows, ...(campaigns.length
    ? campaigns.map(tableRow)
    : [el("tr", {}, el("td", { colSpan: COLUMNS.length + 1, class: "text", text: "Sin derivaciones a personas en este mes." }))]));
  setChildren(dom.total, ...(total ? [tableRow(total)] : []));
  const channels = data.channels || [];
  setChildren(dom.channelRows, ...(channels.length
    ? channels.map(channelRow)
    : [el("tr", {}, el("td", { colSpan: COLUMNS.length + 1, class: "text", text: "Sin conversaciones en este mes." }))]));
  dom.status.textContent = `Reporte de ${monthText(data.month)} listo.`;

  const chartRows = total ? [...campaigns, total] : campaigns;
  try {
    chart = barChart(chart, dom.chart, chartRows.map((r) => (r.campaign === ALL ? "Total" : r.name || r.campaign)), [
      { label: "Derivadas a una persona", data: chartRows.map((r) => r.handoffs), color: CHART_COLORS.blue },
      { label: "Resueltas por el bot", data: chartRows.map((r) => r.bot_resolved ?? null), color: CHART_COLORS.green },
    ]);
    dom.chartError.textContent = "";
  } catch {
    dom.chartError.textContent = "No se pudo dibujar la gráfica; los datos están en la tabla.";
  }
}

async function load({ updateUrl = true } = {}) {
  const month = dom.month.value.trim();
  showError(dom.error, null);
  if (!MONTH.test(month)) {
    dom.error.textContent = "Elige un mes válido (AAAA-MM).";
    dom.month.focus();
    return;
  }
  if (updateUrl) history.replaceState(null, "", location.pathname + queryString({ month }));
  dom.csv.href = ENDPOINT + queryString({ month, format: "csv" });
  dom.channelCsv.href = ENDPOINT + queryString({ month, format: "csv", by: "channel" });
  const mine = ++seq;
  dom.status.textContent = "Cargando…";
  try {
    const data = await api(ENDPOINT, { query: { month } });
    if (mine !== seq) return;
    render(data);
  } catch (error) {
    if (mine !== seq) return;
    dom.status.textContent = "";
    if (!(error instanceof ApiError && error.status === 401)) showError(dom.error, error);
  }
}

function start() {
  const requested = new URLSearchParams(location.search).get("month");
  dom.month.value = requested && MONTH.test(requested) ? requested : localDate().slice(0, 7);
  dom.month.max = localDate().slice(0, 7);
  load({ updateUrl: false });
  return () => {
    seq++;
    setChildren(dom.rows);
    setChildren(dom.total);
    setChildren(dom.channelRows);
    dom.status.textContent = "";
  };
}

for (const [key, id] of Object.entries({
  form: "month-form", month: "month", csv: "report-csv", error: "report-error",
  status: "report-status", caption: "report-caption", rows: "report-rows", total: "report-total",
  chart: "report-chart", chartError: "report-chart-error",
  channelRows: "report-channel-rows", channelCsv: "report-channel-csv",
})) dom[key] = document.getElementById(id);

dom.form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});

startPage({ page: "reporte", roles: ["supervisor", "admin"], start });

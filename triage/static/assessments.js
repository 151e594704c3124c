// Ventanilla — COVID-19 triage assessments (/evaluaciones): filters, the list, the CSV export link
// with the same filters. For the omt_covid campaign's staff (GET /api/triage/assessments).

import {
  ApiError, DASH, formFilters, api, channelLabels, dateTime, el, label, queryString, setChildren, showError,
  startPage,
} from "/static/staff.js";

const ENDPOINT = "/api/triage/assessments";
const FIELDS = ["level", "date_from", "date_to", "limit"];
const LEVELS = { rojo: "Rojo", amarillo: "Amarillo", verde: "Verde" };
const DISPOSITIONS = {
  emergency: "Llamar al 911 / urgencias",
  remote_medical_orientation: "Orientación médica a distancia",
  home_care: "Cuidados en casa",
  quarantine: "Cuarentena",
  prevention: "Prevención",
};
const ANSWERS = {
  age: "Edad",
  emergency_signs: "Signos de alarma",
  symptoms: "Síntomas",
  symptom_days: "Días con síntomas",
  risk_factors: "Factores de riesgo",
  exposure: "Contacto con un caso",
};

const dom = {};
const state = { channels: {}, seq: 0 };

function answersText(answers) {
  return Object.entries(answers || {}).map(([key, value]) => {
    const shown = Array.isArray(value) ? (value.length ? value.join(", ") : "ninguno") : String(value);
    return `${ANSWERS[key] || key}: ${shown}`;
  }).join(" · ");
}

function render(data) {
  const rows = data.results || [];
  dom.count.textContent = rows.length === 1 ? "1 evaluación." : `${rows.length} evaluaciones.`;
  setChildren(dom.results, ...(rows.length
    ? rows.map((a) => el("tr", { testid: `assessment-${a.id}`, dataset: { level: a.level } },
      el("td", { text: String(a.id) }),
      el("td", { class: "text", text: dateTime(a.created_at) }),
      el("td", { class: "text" }, el("span", { class: `badge level-${a.level}`, text: label(LEVELS, a.level) })),
      el("td", { class: "text", text: label(DISPOSITIONS, a.disposition) }),
      el("td", { class: "text", text: (a.rules || []).join(", ") || DASH }),
      el("td", { class: "text", text: label(state.channels, a.channel) }),
      el("td", { class: "text", text: a.sender || DASH }),
      el("td", { class: "text", text: answersText(a.answers) }),
      el("td", { class: "text", text: a.protocol_version }),
    ))
    : [el("tr", {}, el("td", { colSpan: 9, class: "text", text: "Ninguna evaluación con esos filtros." }))]));
}

async function search() {
  const mine = ++state.seq;
  const filters = formFilters(dom.form, FIELDS);
  dom.exportCsv.href = `${ENDPOINT}.csv${queryString({ ...filters, limit: undefined })}`;
  try {
    const data = await api(ENDPOINT, { query: filters });
    if (mine !== state.seq) return;
    showError(dom.error, null);
    render(data);
  } catch (error) {
    if (mine !== state.seq || (error instanceof ApiError && error.status === 401)) return;
    showError(dom.error, error);
    setChildren(dom.results);
    dom.count.textContent = "";
  }
}

function start() {
  const onSubmit = (event) => {
    event.preventDefault();
    search();
  };
  const onReset = () => {
    dom.form.reset();
    search();
  };
  dom.form.addEventListener("submit", onSubmit);
  dom.reset.addEventListener("click", onReset);
  channelLabels().then((channels) => { state.channels = channels || {}; }).catch(() => {}).finally(search);
  return () => {
    dom.form.removeEventListener("submit", onSubmit);
    dom.reset.removeEventListener("click", onReset);
    state.seq++;
  };
}

for (const [key, id] of Object.entries({
  form: "filters", error: "filters-error", count: "results-count", exportCsv: "export-csv",
  reset: "filter-reset", results: "results",
})) dom[key] = document.getElementById(id);

startPage({ page: "evaluaciones", roles: ["agent", "supervisor", "admin"], campaign: "omt_covid", start });

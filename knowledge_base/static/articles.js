// Ventanilla — the editors' article list (/editores): search, filters by status and campaign,
// "Nuevo artículo", and the "what would the bot answer" preview.

import { api, dateTime, el, fillSelect, queryString, setChildren, startPage } from "/static/staff.js";
import {
  API, ARTICLE_STATUS, CAMPAIGNS, ROLES, articleUrl, campaignName, say, sectionNav,
  signedOutError, statusBadge, wirePreview,
} from "./kb.js";

const FIELDS = ["q", "status", "campaign"];
const dom = {};
let seq = 0;
let typing = null;

function filtersFromForm() {
  const filters = {};
  for (const field of FIELDS) {
    const value = String(dom.form.elements.namedItem(field).value || "").trim();
    if (value) filters[field] = value;
  }
  return filters;
}

function fillForm(filters) {
  for (const field of FIELDS) dom.form.elements.namedItem(field).value = filters[field] || "";
}

function row(article) {
  return el("tr", { testid: `article-row-${article.id}`, dataset: { status: article.status } },
    el("td", { class: "text" }, el("a", { href: articleUrl(article.id), text: article.title })),
    el("td", { class: "text kb-id", text: article.id }),
    el("td", { class: "text", text: campaignName(article.campaign) }),
    el("td", { class: "text" },
      statusBadge(article.status),
      article.live && article.status !== "published"
        ? el("span", { class: "hint kb-live-note", text: " · el bot responde con la versión publicada" })
        : null,
    ),
    el("td", { text: String(article.revision) }),
    el("td", { class: "text" }, el("time", { attrs: { datetime: article.updated_at }, text: dateTime(article.updated_at) })),
  );
}

async function load({ updateUrl = true } = {}) {
  const filters = filtersFromForm();
  if (updateUrl) history.replaceState(null, "", location.pathname + queryString(filters));
  const mine = ++seq;
  say(dom, {});
  dom.count.textContent = "Buscando…";
  try {
    const articles = await api(`${API}/articles`, { query: filters });
    if (mine !== seq) return;
    setChildren(dom.rows, articles.length
      ? articles.map(row)
      : el("tr", {}, el("td", { colSpan: 6, class: "text", text: "Ningún artículo coincide con la búsqueda." })));
    dom.count.textContent = articles.length === 1 ? "1 artículo." : `${articles.length} artículos.`;
  } catch (error) {
    if (mine !== seq) return;
    dom.count.textContent = "";
    if (!signedOutError(error)) say(dom, { error });
  }
}

function start() {
  sectionNav(dom.sections, "articulos");
  fillSelect(dom.status, ARTICLE_STATUS, { placeholder: "Todos" });
  fillSelect(dom.campaign, CAMPAIGNS, { placeholder: "Todas" });
  const params = new URLSearchParams(location.search);
  fillForm(Object.fromEntries(FIELDS.map((f) => [f, params.get(f) || ""])));
  load({ updateUrl: false });
  return () => {
    seq++;
    setChildren(dom.rows);
    dom.count.textContent = "";
  };
}

for (const [key, id] of Object.entries({
  sections: "kb-sections", form: "filters", status: "f-status", campaign: "f-campaign", q: "f-q",
  reset: "filter-reset", error: "list-error", count: "list-count", rows: "articles",
  previewForm: "preview-form", previewInput: "preview-q", previewHits: "preview-hits",
  previewStatus: "preview-status", previewError: "preview-error",
})) dom[key] = document.getElementById(id);

dom.form.addEventListener("submit", (event) => {
  event.preventDefault();
  window.clearTimeout(typing);
  load();
});
dom.status.addEventListener("change", () => load());
dom.campaign.addEventListener("change", () => load());
dom.q.addEventListener("input", () => {
  window.clearTimeout(typing);
  typing = window.setTimeout(() => load(), 300);
});
dom.reset.addEventListener("click", () => {
  fillForm({});
  load();
  dom.q.focus();
});
wirePreview({
  form: dom.previewForm, input: dom.previewInput, list: dom.previewHits,
  status: dom.previewStatus, error: dom.previewError,
});

startPage({ page: "editores", roles: ROLES, start });

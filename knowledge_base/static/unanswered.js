// Ventanilla — unanswered questions (/editores/sin-respuesta): groups by meaning, the most asked
// first; "Crear borrador" asks for the new article's id, title and campaign and opens it.

import { api, count, el, errorText, fillSelect, setChildren, startPage } from "/static/staff.js";
import {
  API, ARTICLE_ID, CAMPAIGNS, ROLES, articleUrl, say, sectionNav, signedOutError, slugify,
} from "./kb.js";

const dom = {};
let seq = 0;

function titleFrom(question) {
  const text = question.trim().replace(/^[¿¡\s]+|[?!.\s]+$/g, "");
  const title = text.charAt(0).toUpperCase() + text.slice(1);
  return title.slice(0, 200);
}

function draftForm(group, i, toggle) {
  const ids = {
    id: `draft-id-${i}`, title: `draft-title-${i}`, campaign: `draft-campaign-${i}`, error: `draft-error-${i}`,
  };
  const idInput = el("input", {
    type: "text", id: ids.id, name: "id", required: true, maxlength: "120", testid: ids.id,
    value: slugify(group.question), attrs: { autocapitalize: "none", spellcheck: "false", "aria-describedby": `${ids.id}-hint` },
  });
  const titleInput = el("input", {
    type: "text", id: ids.title, name: "title", required: true, maxlength: "200", testid: ids.title,
    value: titleFrom(group.question),
  });
  const campaign = el("select", { id: ids.campaign, name: "campaign", required: true, testid: ids.campaign });
  fillSelect(campaign, CAMPAIGNS, { placeholder: "Elige una campaña", keep: false });
  const error = el("p", { class: "alert", id: ids.error, attrs: { role: "alert" }, testid: `draft-error-${i}` });
  const submit = el("button", { type: "submit", class: "btn btn-primary", testid: `draft-submit-${i}`, text: "Crear borrador" });
  const cancel = el("button", { type: "button", class: "btn", testid: `draft-cancel-${i}`, text: "Cancelar" });
  const form = el("form", {
    class: "kb-draft-form", id: `draft-form-${i}`, testid: `draft-form-${i}`,
    attrs: { novalidate: true, "aria-label": `Nuevo artículo con las preguntas del grupo ${i + 1}` },
  },
    el("div", { class: "field" }, el("label", { for: ids.id, text: "Id del artículo" }), idInput,
      el("span", { class: "hint", id: `${ids.id}-hint`, text: "kebab-case: minúsculas, números y guiones." })),
    el("div", { class: "field" }, el("label", { for: ids.title, text: "Título" }), titleInput),
    el("div", { class: "field" }, el("label", { for: ids.campaign, text: "Campaña" }), campaign),
    error,
    el("div", { class: "kb-actions" }, submit, cancel),
  );
  cancel.addEventListener("click", () => toggle(false));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") toggle(false);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = { ids: group.ids, id: idInput.value.trim(), title: titleInput.value.trim(), campaign: campaign.value };
    let problem = null;
    if (!ARTICLE_ID.test(body.id)) problem = [idInput, "El id debe ser kebab-case: minúsculas sin acentos, números y guiones (de 2 a 120 caracteres)."];
    else if (body.title.length < 3) problem = [titleInput, "El título debe tener al menos 3 caracteres."];
    else if (!(body.campaign in CAMPAIGNS)) problem = [campaign, "Elige la campaña del artículo."];
    for (const input of [idInput, titleInput, campaign]) input.removeAttribute("aria-invalid");
    if (problem) {
      problem[0].setAttribute("aria-invalid", "true");
      error.textContent = problem[1];
      problem[0].focus();
      return;
    }
    submit.disabled = true;
    try {
      const article = await api(`${API}/unanswered/draft`, { method: "POST", body });
      say(dom, { notice: `Borrador «${article.data.title}» creado. Abriéndolo…` });
      window.location.assign(articleUrl(article.id));
    } catch (err) {
      submit.disabled = false;
      if (!signedOutError(err)) error.textContent = errorText(err);
    }
  });
  return form;
}

function groupItem(group, i) {
  const openButton = el("button", {
    type: "button", class: "btn btn-small", testid: `draft-from-group-${i}`, text: "Crear borrador",
    attrs: { "aria-expanded": "false", "aria-controls": `draft-slot-${i}` },
  });
  const slot = el("div", { id: `draft-slot-${i}` });
  function toggle(open) {
    openButton.setAttribute("aria-expanded", String(open));
    if (open) {
      const form = draftForm(group, i, toggle);
      setChildren(slot, form);
      form.querySelector("input").focus();
    } else {
      setChildren(slot);
      openButton.focus();
    }
  }
  openButton.addEventListener("click", () => toggle(openButton.getAttribute("aria-expanded") !== "true"));
  const headingId = `group-title-${i}`;
  return el("li", { class: "card kb-group", testid: `unanswered-group-${i}`, attrs: { "aria-labelledby": headingId } },
    el("div", { class: "section-head" },
      el("h3", { id: headingId, text: `«${group.question}»` }),
      el("span", { class: "badge", testid: `group-count-${i}`, text: group.count === 1 ? "1 vez" : `${count(group.count)} veces` }),
    ),
    group.questions.length > 1
      ? el("details", {},
        el("summary", { text: `Ver las ${count(group.questions.length)} preguntas del grupo` }),
        el("ul", { class: "kb-questions" }, group.questions.map((q) => el("li", { text: q }))))
      : null,
    el("div", { class: "kb-actions" }, openButton),
    slot,
  );
}

async function load() {
  const mine = ++seq;
  say(dom, { notice: "Cargando…" });
  try {
    const groups = await api(`${API}/unanswered`);
    if (mine !== seq) return;
    setChildren(dom.groups, groups.length
      ? groups.map(groupItem)
      : el("li", { class: "hint", text: "No hay preguntas sin respuesta pendientes." }));
    say(dom, { notice: groups.length === 1 ? "1 grupo de preguntas." : `${count(groups.length)} grupos de preguntas.` });
  } catch (error) {
    if (mine !== seq) return;
    say(dom, {});
    if (!signedOutError(error)) say(dom, { error });
  }
}

function start() {
  sectionNav(dom.sections, "sin-respuesta");
  load();
  return () => {
    seq++;
    setChildren(dom.groups);
  };
}

for (const [key, id] of Object.entries({
  sections: "kb-sections", notice: "notice", error: "form-error", groups: "groups", refresh: "refresh",
})) dom[key] = document.getElementById(id);

dom.refresh.addEventListener("click", () => load());

startPage({ page: "editores", roles: ROLES, start });

// Ventanilla — the article editor (/editores/articulo?id=…; without id: a new article).
// Fields of ArticleData (knowledge_base/content.py), the workflow buttons (save a draft, send to
// review, approve and publish, unpublish), the revisions with their diffs and "restore", and the
// "what would the bot answer" preview.

import {
  api, dateTime, el, errorText, fillSelect, replaceChildrenKeepFocus, setChildren,
  startPage,
} from "/static/staff.js";
import {
  API, ARTICLE_ID, ARTICLE_STATUS, CAMPAIGNS, ROLES, articleUrl, say, sectionNav,
  signedOutError, slugify, wirePreview,
} from "./kb.js";

const dom = {};
const state = {
  me: null,
  article: null, // ArticleOut of the server, null for a new article
  saved: null, // the form as last loaded or saved (to know about unsaved changes)
  pendingId: null, // the id asked for in the address, until it is loaded
  busy: false,
  seq: 0,
};

// ---------------------------------------------------------------- the form

const FIELD_IDS = {
  id: "field-id", title: "field-title", campaign: "field-campaign", questions: "field-questions",
  body: "field-body", short_answer: "field-short-answer", source: "field-source", tags: "field-tags", valid_from: "field-valid-from",
  valid_until: "field-valid-until", editor_note: "field-editor-note",
};
const DATE = /^\d{4}-\d{2}-\d{2}$/;
// The server's rules for the short answer and the source (knowledge_base/content.py).
const SHORT_MAX = 300;
const MARKDOWN = /\*|`|__|(^|[^\p{L}\p{N}_])_(?=\S)|\[[^\]]*\]\(|^\s*#/mu;
const INTERNAL_SOURCE = /notas? de dominio|del proyecto|bot\/|\.ya?ml\b|pendiente( de)? confirmar|centro de contacto/i;
const SHORT_MISSING = "Escribe la respuesta corta: hace falta para enviar a revisión y publicar.";

/** Characters as the server counts them (code points, not UTF-16 units). */
function charCount(text) {
  return [...String(text || "").trim()].length;
}

function lines(text) {
  return String(text || "").split("\n").map((line) => line.trim()).filter(Boolean);
}

/** The form as ArticleData (the API's JSON). */
function readForm() {
  const f = dom.fields;
  const note = f.editor_note.value.trim();
  return {
    id: f.id.value.trim(),
    title: f.title.value.trim(),
    campaign: f.campaign.value,
    questions: lines(f.questions.value),
    body: f.body.value.trim(),
    short_answer: f.short_answer.value.trim() || null,
    source: f.source.value.trim(),
    status: state.article ? state.article.data.status || "draft" : "draft",
    valid_from: f.valid_from.value || null,
    valid_until: f.valid_until.value || null,
    tags: f.tags.value.split(",").map((t) => t.trim()).filter(Boolean),
    editor_note: note || null,
  };
}

function fillForm(data) {
  const f = dom.fields;
  f.id.value = data.id || "";
  f.title.value = data.title || "";
  f.campaign.value = data.campaign || "";
  f.questions.value = (data.questions || []).join("\n");
  f.body.value = data.body || "";
  f.short_answer.value = data.short_answer || "";
  f.source.value = data.source || "";
  f.tags.value = (data.tags || []).join(", ");
  f.valid_from.value = data.valid_from || "";
  f.valid_until.value = data.valid_until || "";
  f.editor_note.value = data.editor_note || "";
  clearFieldErrors();
  renderCounter(false);
  state.saved = JSON.stringify(readForm());
}

/** "N/300" under the short answer; the status region speaks only when the limit is crossed. */
function renderCounter(announce = true) {
  const n = charCount(dom.fields.short_answer.value);
  const over = n > SHORT_MAX;
  const was = dom.counter.dataset.over === "true";
  dom.counter.firstChild.textContent = `${n}/${SHORT_MAX}`;
  dom.counter.dataset.over = String(over);
  if (announce && over !== was) {
    dom.counterAnnounce.textContent = over
      ? `La respuesta corta pasa de ${SHORT_MAX} caracteres: tiene ${n}.`
      : `La respuesta corta ya cabe en ${SHORT_MAX} caracteres.`;
  }
}

function dirty() {
  return state.saved !== null && JSON.stringify(readForm()) !== state.saved;
}

/** Spanish messages per field, as the server's rules (ArticleData) would give them. */
function problems(data, isNew) {
  const found = {};
  if (isNew && !ARTICLE_ID.test(data.id)) {
    found.id = data.id
      ? "El id debe ser kebab-case: minúsculas sin acentos, números y guiones (de 2 a 120 caracteres)."
      : "Escribe el id del artículo.";
  }
  if (data.title.length < 3) found.title = "El título debe tener al menos 3 caracteres.";
  if (!(data.campaign in CAMPAIGNS)) found.campaign = "Elige la campaña del artículo.";
  if (!data.questions.length) found.questions = "Escribe al menos una pregunta.";
  if (!data.body) found.body = "Escribe la respuesta.";
  const short = data.short_answer || "";
  if (charCount(short) > SHORT_MAX) {
    found.short_answer = `La respuesta corta tiene ${charCount(short)} caracteres; el máximo es ${SHORT_MAX}.`;
  } else if (short.includes("\n")) {
    found.short_answer = "La respuesta corta debe ser un solo párrafo, sin saltos de línea.";
  } else if (MARKDOWN.test(short)) {
    found.short_answer = "La respuesta corta va en texto simple: sin asteriscos, guiones bajos, «`», «#» ni ligas.";
  }
  if (data.source.length < 3) found.source = "Escribe la fuente (al menos 3 caracteres).";
  else if (INTERNAL_SOURCE.test(data.source)) {
    found.source = "La fuente se muestra a las personas: nombra una referencia pública (trámite o página del IMSS, artículo de una ley), no notas internas ni archivos. Lo interno va en la nota para editores.";
  }
  if (data.valid_from && !DATE.test(data.valid_from)) found.valid_from = "Fecha no válida (AAAA-MM-DD).";
  if (data.valid_until && !DATE.test(data.valid_until)) found.valid_until = "Fecha no válida (AAAA-MM-DD).";
  if (data.valid_from && data.valid_until && data.valid_from > data.valid_until) {
    found.valid_until = "«Hasta» no puede ser anterior a «Desde».";
  }
  return found;
}

function clearFieldErrors() {
  for (const [key, input] of Object.entries(dom.fields)) {
    input.removeAttribute("aria-invalid");
    const slot = document.getElementById(`${FIELD_IDS[key]}-error`);
    if (slot) slot.textContent = "";
  }
}

/** Show the problems next to their fields; false (and focus on the first) if there are any. */
function showProblems(found) {
  clearFieldErrors();
  const keys = Object.keys(found);
  for (const key of keys) {
    dom.fields[key].setAttribute("aria-invalid", "true");
    const slot = document.getElementById(`${FIELD_IDS[key]}-error`);
    if (slot) slot.textContent = found[key];
  }
  if (!keys.length) return true;
  say(dom, { error: keys.length === 1 ? found[keys[0]] : `Revisa ${keys.length} campos: ${keys.map((k) => found[k]).join(" ")}` });
  dom.fields[keys[0]].focus();
  return false;
}

// ---------------------------------------------------------------- state shown

function liveText(article) {
  if (!article) return "Artículo nuevo: se guarda como borrador.";
  if (article.live_revision === null || article.live_revision === undefined) {
    return article.status === "unpublished"
      ? "El bot no usa este artículo."
      : "Aún no se ha publicado: el bot no usa este artículo.";
  }
  if (article.live_revision === article.revision) {
    return `El bot responde con esta versión (revisión ${article.revision}).`;
  }
  return `Hay cambios sin publicar: la versión publicada es la ${article.live_revision} (la actual es la ${article.revision}). El bot sigue respondiendo con la publicada.`;
}

function reviewText(article) {
  if (!article || article.status !== "in_review") return "";
  if (article.submitted_by && state.me && article.submitted_by === state.me.username) {
    return "Tú lo enviaste a revisión: otra persona editora debe aprobarlo y publicarlo.";
  }
  return article.submitted_by
    ? `Enviado a revisión por ${article.submitted_by}. Revísalo y, si está bien, apruébalo y publícalo.`
    : "En revisión: otra persona editora debe aprobarlo y publicarlo.";
}

function renderState() {
  const article = state.article;
  const isNew = !article;
  const pending = isNew && state.pendingId; // an existing article, not loaded (yet)
  dom.split.hidden = !!pending;
  const title = pending ? `Artículo «${state.pendingId}»` : isNew ? "Nuevo artículo" : article.data.title;
  dom.heading.textContent = title;
  document.title = `${title} — Base de conocimiento — Ventanilla`;
  dom.badge.hidden = isNew;
  if (!isNew) {
    dom.badge.textContent = ARTICLE_STATUS[article.status] || article.status;
    dom.badge.dataset.status = article.status;
    dom.badge.className = `badge kb-status kb-status-${article.status}`;
  }
  dom.liveInfo.textContent = pending ? "" : liveText(article);
  dom.reviewInfo.textContent = reviewText(article);
  dom.fields.id.readOnly = !isNew;
  dom.fields.id.setAttribute("aria-readonly", String(!isNew));
  dom.idHint.hidden = !isNew;
  dom.revisionsSection.hidden = isNew;
  renderActions();
}

function renderActions() {
  const article = state.article;
  const changed = dirty();
  const canSubmit = !article || changed || ["draft", "unpublished"].includes(article.status);
  const canPublish = !!article && article.status === "in_review";
  const canUnpublish = !!article && article.live;
  dom.save.disabled = state.busy;
  dom.submit.disabled = state.busy || !canSubmit;
  dom.publish.disabled = state.busy || !canPublish;
  dom.unpublish.disabled = state.busy || !canUnpublish;
  dom.confirmYes.disabled = state.busy;
  if (!canUnpublish) dom.confirm.hidden = true;
  const hints = [];
  if (changed) hints.push("Tienes cambios sin guardar.");
  if (article && !canPublish) hints.push("«Aprobar y publicar» se activa cuando el artículo está en revisión.");
  if (article && !canUnpublish) hints.push("«Despublicar» se activa cuando el bot usa el artículo.");
  dom.actionsHint.textContent = hints.join(" ");
}

function focusNextAction(clicked) {
  if (clicked && !clicked.disabled && !clicked.hidden) {
    clicked.focus();
    return;
  }
  const next = [dom.publish, dom.submit, dom.unpublish, dom.save].find((b) => !b.disabled);
  if (next) next.focus();
}

// ---------------------------------------------------------------- revisions and diffs

function revisionRow(revision, current) {
  const n = revision.number;
  return el("tr", { testid: `revision-row-${n}`, dataset: { live: String(revision.live) } },
    el("td", {},
      String(n),
      revision.live ? [" ", el("span", { class: "badge kb-status kb-status-published", text: "publicada" })] : null,
      n === current ? [" ", el("span", { class: "badge", text: "actual" })] : null,
    ),
    el("td", { class: "text", text: revision.author || "—" }),
    el("td", { class: "text" }, el("time", { attrs: { datetime: revision.created_at }, text: dateTime(revision.created_at) })),
    el("td", { class: "text", text: revision.note || "" }),
    el("td", { class: "text kb-row-actions" },
      n > 1 ? el("button", {
        type: "button", class: "btn btn-small", testid: `diff-${n}`, text: "Ver cambios",
        attrs: { "aria-label": `Ver cambios de la revisión ${n} respecto a la ${n - 1}` },
        on: { click: (event) => showDiff(n, event.currentTarget) },
      }) : null,
      n !== current ? el("button", {
        type: "button", class: "btn btn-small", testid: `restore-${n}`, text: "Restaurar",
        attrs: { "aria-label": `Restaurar la revisión ${n} como borrador nuevo` },
        on: { click: () => restore(n) },
      }) : null,
    ),
  );
}

async function loadRevisions() {
  if (!state.article) {
    setChildren(dom.revisions);
    return;
  }
  const id = state.article.id;
  try {
    const revisions = await api(`${API}/articles/${encodeURIComponent(id)}/revisions`);
    if (!state.article || state.article.id !== id) return;
    const current = state.article.revision;
    replaceChildrenKeepFocus(dom.revisions, [...revisions].reverse().map((r) => revisionRow(r, current)));
  } catch (error) {
    if (!signedOutError(error)) say(dom, { error });
  }
}

function diffLine(line) {
  let kind = "same";
  if (line.startsWith("+++") || line.startsWith("---")) kind = "meta";
  else if (line.startsWith("@@")) kind = "hunk";
  else if (line.startsWith("+")) kind = "add";
  else if (line.startsWith("-")) kind = "del";
  return el("span", { class: `kb-diff-line kb-diff-${kind}`, dataset: { kind }, text: `${line}\n` });
}

let diffOpener = null;

async function showDiff(n, opener) {
  if (!state.article) return;
  diffOpener = opener || null;
  try {
    const result = await api(`${API}/articles/${encodeURIComponent(state.article.id)}/diff`, {
      query: { from: n - 1, to: n },
    });
    const text = result.diff || "";
    dom.diffTitle.textContent = `Cambios de la revisión ${n - 1} a la ${n}`;
    const rows = text.replace(/\n$/, "").split("\n");
    setChildren(dom.diff, text ? rows.map(diffLine) : el("span", { text: "Sin cambios entre las dos revisiones." }));
    dom.diff.dataset.from = String(n - 1);
    dom.diff.dataset.to = String(n);
    dom.diffSection.hidden = false;
    dom.diffTitle.focus();
  } catch (error) {
    if (!signedOutError(error)) say(dom, { error });
  }
}

// ---------------------------------------------------------------- loading

function setArticle(article) {
  state.article = article;
  if (article) fillForm(article.data);
  renderState();
  loadRevisions();
  if (article && !dom.previewInput.value && article.data.questions.length) {
    dom.previewInput.value = article.data.questions[0];
  }
}

async function load(id) {
  const mine = ++state.seq;
  say(dom, { notice: "Cargando…" });
  try {
    const article = await api(`${API}/articles/${encodeURIComponent(id)}`);
    if (mine !== state.seq) return;
    say(dom, {});
    setArticle(article);
  } catch (error) {
    if (mine !== state.seq) return;
    say(dom, {});
    if (!signedOutError(error)) {
      say(dom, { error: error.status === 404 ? `No existe el artículo «${id}».` : errorText(error) });
    }
  }
}

// ---------------------------------------------------------------- actions

/** Run an API action with the buttons disabled; the returned article is shown. */
async function act(button, work, notice) {
  if (state.busy) return null;
  state.busy = true;
  renderActions();
  say(dom, {});
  try {
    const article = await work();
    if (article) {
      setArticle(article);
      const text = typeof notice === "function" ? notice(article) : notice;
      say(dom, { notice: text });
    }
    return article;
  } catch (error) {
    if (!signedOutError(error)) say(dom, { error });
    return null;
  } finally {
    state.busy = false;
    renderActions();
    // The buttons were disabled while busy, which drops the focus; unless the work moved it
    // (to a field with a problem), give it back to the button, or to the next possible action.
    if (document.activeElement === document.body || !document.activeElement) focusNextAction(button);
  }
}

/** Create or update the draft; resolves to the article (or null when invalid or refused). */
async function saveDraft() {
  const data = readForm();
  const isNew = !state.article;
  if (!showProblems(problems(data, isNew))) return null;
  if (isNew) {
    const created = await api(`${API}/articles`, { method: "POST", body: data });
    history.replaceState(null, "", articleUrl(created.id));
    return created;
  }
  return api(`${API}/articles/${encodeURIComponent(state.article.id)}`, { method: "PUT", body: data });
}

function onSave() {
  if (state.article && !dirty()) {
    say(dom, { notice: "No hay cambios que guardar." });
    return;
  }
  const isNew = !state.article;
  act(dom.save, saveDraft, (a) => (isNew
    ? `Borrador creado (revisión ${a.revision}). Envíalo a revisión cuando esté listo.`
    : `Borrador guardado (revisión ${a.revision}).`));
}

function onSubmit() {
  act(dom.submit, async () => {
    if (!readForm().short_answer) {
      showProblems({ short_answer: SHORT_MISSING });
      return null;
    }
    let article = state.article;
    if (!article || dirty()) {
      article = await saveDraft();
      if (!article) return null;
      setArticle(article);
    }
    return api(`${API}/articles/${encodeURIComponent(article.id)}/submit`, { method: "POST" });
  }, "Enviado a revisión. Otra persona editora debe aprobarlo y publicarlo.");
}

function onPublish() {
  if (dirty()) {
    say(dom, { error: "Tienes cambios sin guardar: guárdalos y envíalos a revisión, o recarga la página para descartarlos, antes de publicar." });
    return;
  }
  act(dom.publish, () => api(`${API}/articles/${encodeURIComponent(state.article.id)}/publish`, { method: "POST" }),
    (a) => `Publicado: el bot ya responde con la revisión ${a.live_revision}.`);
}

function onUnpublish() {
  dom.confirm.hidden = false;
  dom.confirmYes.focus();
}

function onUnpublishConfirmed() {
  dom.confirm.hidden = true;
  act(dom.unpublish, () => api(`${API}/articles/${encodeURIComponent(state.article.id)}/unpublish`, { method: "POST" }),
    "Despublicado: el bot ya no usa este artículo.");
}

function restore(n) {
  if (dirty()) {
    say(dom, { error: "Tienes cambios sin guardar: guárdalos o recarga la página para descartarlos antes de restaurar." });
    return;
  }
  act(null, () => api(`${API}/articles/${encodeURIComponent(state.article.id)}/revisions/${n}/restore`, { method: "POST" }),
    (a) => `Se creó la revisión ${a.revision} (borrador) con el contenido de la revisión ${n}.`);
}

// ---------------------------------------------------------------- page

function start(me) {
  state.me = me;
  sectionNav(dom.sections, "articulos");
  fillSelect(dom.fields.campaign, CAMPAIGNS, { placeholder: "Elige una campaña", keep: false });
  const id = new URLSearchParams(location.search).get("id");
  state.article = null;
  state.pendingId = id || null;
  if (id) {
    renderState();
    load(id);
  } else {
    fillForm({ campaign: "" });
    renderState();
  }
  return () => {
    state.seq++;
    state.me = null;
  };
}

for (const [key, id] of Object.entries({
  sections: "kb-sections", heading: "article-heading", badge: "status-badge", liveInfo: "live-info",
  reviewInfo: "review-info", notice: "notice", error: "form-error", form: "article-form",
  idHint: "field-id-hint", save: "save-draft", submit: "submit-review", publish: "publish",
  unpublish: "unpublish", confirm: "unpublish-confirm", confirmYes: "unpublish-yes",
  confirmNo: "unpublish-no", actionsHint: "actions-hint", revisions: "revisions",
  revisionsSection: "revisions-section", diffSection: "diff-section", diffTitle: "diff-title",
  diff: "diff-view", diffClose: "diff-close", split: "editor-split", previewForm: "preview-form", previewInput: "preview-q",
  previewHits: "preview-hits", previewStatus: "preview-status", previewError: "preview-error",
  counter: "field-short-answer-count", counterAnnounce: "short-answer-announce",
})) dom[key] = document.getElementById(id);
dom.fields = Object.fromEntries(Object.entries(FIELD_IDS).map(([key, id]) => [key, document.getElementById(id)]));

dom.form.addEventListener("submit", (event) => {
  event.preventDefault();
  onSave();
});
dom.form.addEventListener("input", () => renderActions());
dom.form.addEventListener("change", () => renderActions());
dom.fields.title.addEventListener("input", () => {
  // A new article's id follows its title until someone edits the id.
  if (!state.article && !dom.fields.id.dataset.edited) {
    const title = dom.fields.title.value.trim();
    dom.fields.id.value = title ? slugify(title) : "";
  }
});
dom.fields.id.addEventListener("input", () => { dom.fields.id.dataset.edited = "1"; });
dom.fields.short_answer.addEventListener("input", () => renderCounter());
dom.submit.addEventListener("click", onSubmit);
dom.publish.addEventListener("click", onPublish);
dom.unpublish.addEventListener("click", onUnpublish);
dom.confirmYes.addEventListener("click", onUnpublishConfirmed);
dom.confirmNo.addEventListener("click", () => {
  dom.confirm.hidden = true;
  dom.unpublish.focus();
});
dom.confirm.addEventListener("keydown", (event) => {
  if (event.key === "Escape") dom.confirmNo.click();
});
dom.diffClose.addEventListener("click", () => {
  dom.diffSection.hidden = true;
  if (diffOpener && diffOpener.isConnected) diffOpener.focus();
});
window.addEventListener("beforeunload", (event) => {
  if (dirty()) {
    event.preventDefault();
    event.returnValue = "";
  }
});
wirePreview({
  form: dom.previewForm, input: dom.previewInput, list: dom.previewHits,
  status: dom.previewStatus, error: dom.previewError,
  highlight: () => (state.article ? state.article.id : null),
});

startPage({ page: "editores", roles: ROLES, start });

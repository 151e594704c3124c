// Ventanilla — shared pieces of the editors' pages (/editores): campaigns, statuses, the section
// navigation, messages and the "what would the bot answer" preview.
// The staff pages' helpers (sign-in, API with CSRF, DOM building) come from /static/staff.js.
// Texts for people are in Spanish (es-MX). Data only ever reaches the page as textContent.

import { ApiError, api, el, errorText, setChildren } from "/static/staff.js";

export const ROLES = ["editor", "admin"];
export const API = "/api/kb";

// Copied from ventanilla/campaigns.py (GET /api/handoff/campaigns is for the consoles' roles only).
export const CAMPAIGNS = {
  derechohabiente: "Orientación a derechohabientes",
  contribuyente: "Patrones y sujetos obligados",
  cita_medica: "Cita Médica",
  omt_covid: "Orientación Médica Telefónica COVID-19",
  salud_mental: "OMT Salud Mental",
  codigo_infarto: "Código Infarto",
  denuncias: "Denuncias ante el Órgano Interno de Control",
  pensionados: "Pensionados",
  incapacidad_maternidad: "Incapacidad por maternidad",
  entrega_medicamentos: "Entrega de Medicamentos",
  trabajadoras_hogar: "Trabajadoras del hogar",
  bienestar_social: "Bienestar Social, Velatorios, Centros Vacacionales",
};

export const ARTICLE_STATUS = {
  draft: "Borrador",
  in_review: "En revisión",
  published: "Publicado",
  unpublished: "Despublicado",
};

export const ARTICLE_ID = /^[a-z0-9][a-z0-9-]{1,119}$/;

export function campaignName(code) {
  return CAMPAIGNS[code] || code || "—";
}

export function articleUrl(id) {
  return id ? `/editores/articulo?id=${encodeURIComponent(id)}` : "/editores/articulo";
}

/** A status badge: text in Spanish, the code in data-status (for colour and tests). */
export function statusBadge(status, props = {}) {
  return el("span", {
    class: `badge kb-status kb-status-${status || "none"}`,
    dataset: { status: status || "" },
    text: ARTICLE_STATUS[status] || status || "—",
    ...props,
  });
}

/** kebab-case id from a text (same rules as knowledge_base.content.slugify). */
export function slugify(text, maxLength = 80) {
  const folded = String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const slug = folded.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return slug.slice(0, maxLength).replace(/-+$/, "") || "articulo";
}

// ---------------------------------------------------------------- messages

/** Success message in the page's role="status" box; error message in its role="alert" box. */
export function say(dom, { notice = null, error = null } = {}) {
  if (dom.notice) dom.notice.textContent = notice || "";
  if (dom.error) dom.error.textContent = error ? (typeof error === "string" ? error : errorText(error)) : "";
}

/** True for a 401: staff.js already took the person back to the sign-in form. */
export function signedOutError(error) {
  return error instanceof ApiError && error.status === 401;
}

// ---------------------------------------------------------------- section navigation

const SECTIONS = [
  { key: "articulos", href: "/editores", text: "Artículos" },
  { key: "sin-respuesta", href: "/editores/sin-respuesta", text: "Preguntas sin respuesta" },
];

/** The editors' sections as links, the current one marked with aria-current. */
export function sectionNav(node, current) {
  setChildren(node, el("ul", {}, SECTIONS.map((s) => el("li", {},
    el("a", { href: s.href, text: s.text, attrs: { "aria-current": s.key === current ? "page" : null } }),
  ))));
}

// ---------------------------------------------------------------- preview: what would the bot answer

/**
 * Wire a preview form: <form> with an input named "q"; results go into `list` (an <ol>) and a
 * short summary into `status`. `highlight` (an article id) marks that article in the results.
 */
export function wirePreview({ form, input, list, status, error, highlight = () => null }) {
  let seq = 0;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    error.textContent = "";
    if (!q) {
      error.textContent = "Escribe una pregunta como la escribiría una persona.";
      input.focus();
      return;
    }
    const mine = ++seq;
    status.textContent = "Buscando…";
    try {
      const hits = await api(`${API}/search`, { query: { q, k: 5 } });
      if (mine !== seq) return;
      const marked = highlight();
      setChildren(list, hits.map((hit, i) => el("li", {
        class: hit.id === marked ? "kb-hit kb-hit-mine" : "kb-hit",
        testid: `preview-hit-${i}`,
        dataset: { id: hit.id },
      },
        el("a", { href: articleUrl(hit.id), text: hit.title }),
        " ",
        el("span", { class: "hint", text: `(${hit.id}) · confianza ${(hit.confidence * 100).toFixed(0)} %` }),
        hit.id === marked ? el("strong", { text: " · este artículo" }) : null,
      )));
      status.textContent = hits.length
        ? `Primer resultado: «${hits[0].title}». El bot solo responde con él si la confianza alcanza su umbral.`
        : "Ningún artículo publicado se parece a esa pregunta.";
    } catch (err) {
      if (mine !== seq) return;
      status.textContent = "";
      if (!signedOutError(err)) error.textContent = errorText(err);
    }
  });
}

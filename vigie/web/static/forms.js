/* What every form shares, loaded on every page before app.js (vigie/web/ui.py):
   - a refusal that names a field (the API's "field", or "missing" for the case reference and purpose)
     is shown beside that field, tied to it with aria-describedby and aria-invalid;
   - required fields carry a visible mark (the browser already knows them by their required attribute);
   - a slow action is never started twice: while it runs its button is disabled and says so.
   Text goes into the page with textContent only, through t(). */
"use strict";

const FORMS = { lastForm: null, shown: [] };

/* The form the person last submitted (or whose button they pressed): its fields are searched first. A new
   action clears the marks of the last one; a request the page makes by itself (a reload) never does. */
document.addEventListener("submit", (ev) => { FORMS.lastForm = ev.target; clearFieldErrors(); }, true);
document.addEventListener("click", (ev) => {
  const button = ev.target && ev.target.closest ? ev.target.closest("button") : null;
  if (!button) return;
  const form = button.closest("form");
  if (form) FORMS.lastForm = form;
  clearFieldErrors();
}, true);

/* The input for an API field: data-field="name" first (inputs whose id differs), then the id, then the name;
   in the last submitted form, then anywhere on the page. */
function fieldInput(field) {
  if (!field) return null;
  const names = [field, field.split(".").pop()];
  const scopes = [FORMS.lastForm, document].filter(Boolean);
  for (const scope of scopes)
    for (const n of names) {
      const q = CSS.escape(n);
      const found = scope.querySelector("[data-field=\"" + q + "\"]") || scope.querySelector("#" + q) || scope.querySelector("[name=\"" + q + "\"]");
      if (found && found.matches("input, select, textarea") && !found.closest("[hidden]")) return found;
    }
  return null;
}

function clearFieldErrors() {
  for (const { input, note } of FORMS.shown) {
    input.removeAttribute("aria-invalid");
    const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== note.id);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
    note.remove();
  }
  FORMS.shown = [];
}

function showFieldError(input, message) {
  if (!input.id) input.id = "field-" + Math.random().toString(36).slice(2);
  const note = el("span", { class: "field-error", id: input.id + "-problem", text: message });
  const label = input.closest("label");
  (label || input).after(note);
  input.setAttribute("aria-invalid", "true");
  const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  input.setAttribute("aria-describedby", ids.concat([note.id]).join(" "));
  input.addEventListener("input", () => {
    input.removeAttribute("aria-invalid");
    note.textContent = "";
  }, { once: true });
  FORMS.shown.push({ input, note });
}

/* A refused request's answer: its message beside the field it names (the first one gets the focus). */
function markFields(data) {
  clearFieldErrors();
  if (!data) return false;
  const missing = Array.isArray(data.missing) ? data.missing : [];
  const messages = { case_ref: t("Give the case reference."), purpose: t("Give the purpose of the search.") };
  let first = null;
  for (const field of missing) {
    const input = fieldInput(field);
    if (!input) continue;
    showFieldError(input, messages[field] || data.error);
    first = first || input;
  }
  if (!missing.length && data.field) {
    const input = fieldInput(data.field);
    if (input) { showFieldError(input, data.error); first = input; }
  }
  if (first) first.focus();
  return Boolean(first);
}

/* Required fields: a visible mark after the label's text, and the page says once what it means. */
function markRequired(root) {
  let any = false;
  // aria-required: required, but the server's plain message (beside the field) says so rather than the browser's
  for (const input of (root || document).querySelectorAll("input[required], select[required], textarea[required], [aria-required=true]")) {
    const label = input.closest("label");
    if (!label || label.querySelector(".req")) continue;
    // the label's own words and the mark in one box: a label lays its text and input out in a column
    const words = Array.from(label.childNodes).find((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const mark = el("span", { class: "req", "aria-hidden": "true", text: "*" });
    if (words) words.replaceWith(el("span", {}, [words.textContent.trim() + " ", mark]));
    else label.insertBefore(mark, input);
    any = true;
  }
  if (any && !document.querySelector(".req-legend")) {
    const main = document.querySelector("main");
    const h1 = main && main.querySelector("h1");
    const legend = el("p", { class: "req-legend muted", text: t("Fields marked with * are required.") });
    if (h1) h1.after(legend);
  }
}

/* --- slow actions --------------------------------------------------------------------------------------
   busy(button, work): runs work() once; while it runs the button is disabled (aria-busy), and a second
   press (a double click) does nothing. */
async function busy(button, work) {
  if (!button) return work();
  if (button.dataset.busy === "1") return undefined;
  button.dataset.busy = "1";
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    delete button.dataset.busy;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/* onSlow(target, "click" | "submit", handler): the handler of a slow action (an export, a build, a search),
   run through busy() on the target's button, so that a double click or a second Enter starts it once. */
function onSlow(target, type, handler) {
  if (!target) return;
  const button = target.matches("form") ? target.querySelector("button[type=submit], button:not([type])") : target;
  target.addEventListener(type, (ev) => {
    if (type === "submit") ev.preventDefault();
    if (button && button.dataset.busy === "1") return;
    busy(button, () => handler(ev)).catch(() => { /* shown by api() */ });
  });
}

/* A duration the server estimated, in words: "40 s", "3 min". */
function durationText(seconds) {
  if (seconds < 60) return t("{seconds} s", { seconds: Math.max(1, Math.round(seconds)) });
  return t("{minutes} min", { minutes: Math.round(seconds / 60) });
}

document.addEventListener("DOMContentLoaded", () => markRequired(document));

/* Vigie's scripts in the page's language.
   t("English message", {name: value}) gives the message in the language of the page (the server sets
   <html lang> and serves window.VIGIE_I18N, the catalogue vigie/web/static/i18n/<lang>.json, before
   this file). Messages are whole English sentences, extracted by `python -m vigie.i18n.catalogues`
   (Babel's JavaScript extractor: only literal strings in t(...) are found, so never t(variable)).
   {name} placeholders are filled after translation, so a translation may move them. */
"use strict";

(function () {
  const given = window.VIGIE_I18N || { lang: document.documentElement.lang || "en", messages: {} };
  const messages = given.messages || {};
  window.VIGIE_LANG = given.lang;
  // Dates and numbers as the language writes them: French of France, and British English for the English pages
  // (a day before its month, a 24-hour clock: never the mm/dd/yyyy and AM/PM of "en").
  window.VIGIE_LOCALE = { fr: "fr-FR", en: "en-GB" }[given.lang] || "fr-FR";
  window.t = function (message, params) {
    const text = Object.prototype.hasOwnProperty.call(messages, message) ? messages[message] : message;
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, key) => (key in params ? String(params[key]) : whole));
  };
  // The FR / EN switch (vigie.web.ui.language_switch): the page's own query (?t=, ?id=, ?token=) and its
  // fragment are kept, only lang changes; the server then keeps the choice.
  document.addEventListener("click", (ev) => {
    const link = ev.target && ev.target.closest ? ev.target.closest("a.lang-link") : null;
    if (!link) return;
    const url = new URL(window.location.href);
    url.searchParams.set("lang", link.getAttribute("hreflang"));
    link.setAttribute("href", url.pathname + url.search + url.hash);
  });
})();

/* What every page needs for keyboard and screen-reader users (WCAG 2.1 AA), in one place so the pages
   stay plain: a "skip to the main content" link as the first Tab stop, and a <main> that can take the
   focus it moves to. Loaded on every page after i18n.js (vigie/web/ui.py), so its text goes through t(). */
"use strict";

(function () {
  const main = document.querySelector("main");
  if (!main) return;
  if (!main.id) main.id = "main";
  main.tabIndex = -1; // the skip link's target takes the focus, so the next Tab continues from it
  const skip = document.createElement("a");
  skip.className = "skip";
  skip.href = "#" + main.id;
  skip.textContent = t("Skip to the main content");
  skip.addEventListener("click", (ev) => {
    ev.preventDefault();
    main.focus();
  });
  document.body.insertBefore(skip, document.body.firstChild);
})();

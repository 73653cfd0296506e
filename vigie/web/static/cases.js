/* Cases (issue 20): the case opened once per session, shown on every page; marks on tracks; the track's
   holds; the case page (its lists, the multi-track export job). Loaded by app.js once the user is known.
   The case is kept by the server with the session, so every tab sees it: requests that give no case
   reference and purpose are justified by it, and each audit entry still names it. */
"use strict";

const CASES = { current: null, canOpen: false };

function caseUrl(ref) { return "/case/" + encodeURIComponent(ref); }

/* --- the banner on every page ------------------------------------------------------------------- */
function caseForm(current) {
  const ref = el("input", { id: "case-open-ref", maxlength: "256", autocomplete: "off", required: "" });
  const purpose = el("input", { id: "case-open-purpose", maxlength: "256", autocomplete: "off", required: "" });
  if (current) { ref.value = current.case_ref; purpose.value = current.purpose; }
  const msg = el("span", { class: "error", role: "alert", id: "case-open-msg" });
  const form = el("form", { class: "row", id: "case-open-form" }, [
    el("label", {}, [t("Case reference"), ref]),
    el("label", {}, [t("Purpose"), purpose]),
    el("button", { type: "submit", text: current ? t("Switch to this case") : t("Open the case") }),
    msg,
  ]);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await api("/api/case", { method: "PUT", body: { case_ref: ref.value.trim(), purpose: purpose.value.trim() }, quiet: true });
      window.location.reload();  // every list on the page is read again for the new case
    } catch (e) {
      msg.textContent = e.message;
      button.disabled = false;
    }
  });
  return form;
}

function renderBanner(box) {
  const c = CASES.current;
  if (!c) {
    box.replaceChildren(
      el("p", { text: t("No case is open. Open one once: every tab of this session then works for it, and each look is recorded under it.") }),
      caseForm(null),
    );
    return;
  }
  const change = el("button", { type: "button", id: "case-change", text: t("Change the case") });
  const close = el("button", { type: "button", id: "case-close", text: t("Close the case") });
  const line = el("p", { class: "row" }, [
    el("span", { id: "case-current", text: t("Case {ref}: {purpose}", { ref: c.case_ref, purpose: c.purpose }) }),
    " ",
    el("a", { href: caseUrl(c.case_ref), id: "case-page-link", text: t("Case page") }),
    " ", change, " ", close,
  ]);
  box.replaceChildren(line);
  change.addEventListener("click", () => { box.append(caseForm(c)); change.disabled = true; });
  close.addEventListener("click", async () => {
    close.disabled = true;
    try { await api("/api/case", { method: "DELETE" }); window.location.reload(); } catch (e) { close.disabled = false; }
  });
}

/* With a case open, the tab's own justification fields are not needed: hidden and emptied, so that
   requests carry nothing and the server uses the session's case. */
function quietJustification() {
  for (const k of ["case_ref", "purpose"]) {
    sessionStorage.removeItem("vigie_" + k);
    const input = $(k);
    if (input) input.value = "";
  }
  for (const f of document.querySelectorAll("fieldset.just")) f.hidden = true;
}

async function setupCaseBanner() {
  const got = await api("/api/case", { quiet: true });
  CASES.current = got.case;
  CASES.canOpen = got.can_open;
  if (!CASES.canOpen) return;
  const box = el("section", { id: "case-banner", class: "case-banner", "aria-label": t("Case") });
  const main = document.querySelector("main");
  if (main) main.prepend(box);
  renderBanner(box);
  if (CASES.current) quietJustification();
}

/* --- marks ("same person" / "not the same") --------------------------------------------------- */
async function setMark(trackId, mark) {
  const ref = CASES.current.case_ref;
  return api("/api/cases/" + encodeURIComponent(ref) + "/marks/" + encodeURIComponent(trackId), { method: "PUT", body: { mark: mark } });
}

function markButtons(trackId, current, onDone) {
  const label = el("span", { class: "muted" });
  const show = (m) => {
    label.textContent = m === "same" ? t("Marked: the same person.") : m === "different" ? t("Marked: not the same person.") : t("Not marked.");
  };
  if (current !== undefined) show(current);  // undefined: not read here (the similar results), so not claimed
  const make = (mark, text) => {
    const b = el("button", { type: "button", class: "mark-" + (mark || "none"), text: text });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await setMark(trackId, mark); show(mark); if (onDone) onDone(mark); } catch (e) { /* shown */ }
      b.disabled = false;
    });
    return b;
  };
  return el("span", { class: "marks" }, [
    make("same", t("Same person")), " ", make("different", t("Not the same")), " ", make(null, t("Remove the mark")), " ", label,
  ]);
}

/* --- holds: listed and lifted (only the placer or a supervisor, with a reason) ----------------- */
function holdRow(h, onLifted) {
  const what = h.track_ids && h.track_ids.length
    ? t("Tracks {ids}", { ids: h.track_ids.join(", ") })
    : t("Camera {camera}, {start} to {end}", { camera: h.camera_id || "", start: fmtTime(h.window_start), end: h.window_end ? fmtTime(h.window_end) : t("no end") });
  const cells = [
    el("td", { text: "#" + h.id }), el("td", { text: h.case_ref }), el("td", { class: "wrap", text: h.reason }),
    el("td", { text: what }), el("td", { text: t("{user}, {time}", { user: h.placed_by, time: fmtTime(h.placed_at) }) }),
  ];
  const row = el("tr", {}, cells);
  if (h.lifted_at) {
    row.append(el("td", { text: t("Lifted by {user}, {time}", { user: h.lifted_by || "", time: fmtTime(h.lifted_at) }) }));
    return row;
  }
  const mine = VIGIE.me && (h.placed_by === VIGIE.me.username || VIGIE.me.role === "supervisor");
  if (!mine) {
    row.append(el("td", { class: "muted", text: t("Only its placer or a supervisor may lift it.") }));
    return row;
  }
  const reason = el("input", { maxlength: "1000", required: "", "aria-label": t("Reason for lifting hold {id}", { id: h.id }) });
  const msg = el("span", { class: "error", role: "alert" });
  const form = el("form", { class: "row lift" }, [reason, el("button", { type: "submit", text: t("Lift the hold") }), msg]);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await api("/api/holds/" + encodeURIComponent(h.id) + "/lift", { method: "POST", body: { reason: reason.value.trim() }, quiet: true });
      if (onLifted) onLifted();
    } catch (e) { msg.textContent = e.message; button.disabled = false; }
  });
  row.append(el("td", {}, [form]));
  return row;
}

function holdsTable(holds, onLifted) {
  if (!holds.length) return el("p", { class: "muted", text: t("No legal hold.") });
  const head = el("tr", {}, [t("Hold"), t("Case"), t("Reason"), t("What"), t("Placed"), t("Lift")].map((h) => el("th", { text: h })));
  return el("table", { class: "holds" }, [head, ...holds.map((h) => holdRow(h, onLifted))]);
}

/* --- the track page: the case's mark, the holds that keep the track, marks on similar results --- */
async function setupTrackCase() {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const panel = $("investigate");
  if (!panel) return;
  const box = el("div", { id: "track-case" });
  panel.append(box);
  if (!CASES.current) {  // the holds are read under a case, like every look
    box.replaceChildren(el("p", { class: "muted", text: t("Open a case to see this track's legal holds and mark it.") }));
    return;
  }
  async function load() {
    const got = await api("/api/tracks/" + encodeURIComponent(id) + "/case", { quiet: true });
    const parts = [el("h3", { text: t("Legal holds on this track") }), holdsTable(got.holds, () => load().catch(() => {}))];
    const mine = got.marks.find((m) => m.case_ref === CASES.current.case_ref);
    parts.unshift(el("h3", { text: t("For case {ref}", { ref: CASES.current.case_ref }) }), markButtons(id, mine ? mine.mark : null));
    box.replaceChildren(...parts);
  }
  try { await load(); } catch (e) { box.replaceChildren(el("p", { class: "error", text: e.message })); }
  // "Find similar" fills #results with cards (links): each gets its mark buttons in a list beside
  const results = $("results");
  if (!results) return;
  const list = el("div", { id: "similar-marks", class: "panel", hidden: "" });
  results.after(list);
  new MutationObserver(() => {
    const ids = [...results.querySelectorAll("a.card")].map((a) => a.getAttribute("href").split("/").pop());
    list.hidden = !ids.length;
    list.replaceChildren(
      el("h3", { text: t("Mark the similar tracks for case {ref}", { ref: CASES.current.case_ref }) }),
      ...ids.map((tid) => el("p", {}, [el("a", { href: "/track/" + tid, text: t("Track {id}", { id: tid }) }), " ", markButtons(tid, undefined)])),
    );
  }).observe(results, { childList: true });
}

/* --- the case page ------------------------------------------------------------------------------ */
function entryList(items, describe) {
  if (!items.length) return el("p", { class: "muted", text: t("None.") });
  return el("ul", {}, items.map((e) => el("li", { text: describe(e) })));
}

function searchText(e) {
  const d = e.details || {};
  if (e.action === "similar") return t("{time}: {user} looked for tracks similar to track {id} ({n} found).", { time: fmtTime(e.at), user: e.user, id: d.track_id, n: d.total !== undefined ? d.total : "?" });
  return t("{time}: {user} searched ({n} found).", { time: fmtTime(e.at), user: e.user, n: d.total !== undefined ? d.total : "?" });
}

async function exportJob(ref, box, button, onDone) {
  button.disabled = true;
  const say = (text) => { box.textContent = text; };
  try {
    let job = await api("/api/cases/" + encodeURIComponent(ref) + "/exports", { method: "POST", body: { clips: $("export-clips").checked } });
    while (job.status === "queued" || job.status === "running") {
      const p = job.progress;
      say(p.remaining_s !== null
        ? t("Exporting: {done} of {total} tracks packed, about {s} s left.", { done: p.done, total: p.total, s: Math.round(p.remaining_s) })
        : t("Exporting: {done} of {total} tracks packed.", { done: p.done, total: p.total }));
      await new Promise((r) => setTimeout(r, 1000));
      job = await api("/api/case-exports/" + encodeURIComponent(job.id), { quiet: true });
    }
    if (job.status === "failed") { say(t("The export failed: {error}", { error: job.error || "" })); return; }
    const link = el("a", { href: "/api/case-exports/" + encodeURIComponent(job.id) + "/download", id: "export-download", download: "", text: t("Download the export (ZIP)") });
    box.replaceChildren(link, " ", el("span", { class: "muted", text: t("SHA-256 of the ZIP: {sum}", { sum: job.sha256 }) }));
    if (onDone) await onDone();
  } catch (e) {
    say(e.message);
  } finally {
    button.disabled = false;
  }
}

async function setupCasePage() {
  const ref = decodeURIComponent(location.pathname.split("/").pop());
  $("case-title").textContent = t("Case {ref}", { ref: ref });
  async function load() {
    const c = await api("/api/cases/" + encodeURIComponent(ref));
    $("case-scope").textContent = c.scope === "mine"
      ? t("Your own searches, trails, synopses and exports for this case; marks and holds are the case's, whoever made them.")
      : t("Every user's searches, trails, synopses and exports for this case.");
    $("case-searches").replaceChildren(entryList(c.searches, searchText));
    const marks = c.marks.map((m) => el("tr", {}, [
      el("td", {}, [el("a", { href: "/track/" + m.track_id, text: t("Track {id}", { id: m.track_id }) })]),
      el("td", { text: m.mark === "same" ? t("Same person") : t("Not the same") }),
      el("td", { text: m.camera_id }), el("td", { text: fmtTime(m.first_seen) }),
      el("td", { text: t("{user}, {time}", { user: m.marked_by, time: fmtTime(m.marked_at) }) }),
    ]));
    $("case-marks").replaceChildren(marks.length
      ? el("table", {}, [el("tr", {}, [t("Track"), t("Mark"), t("Camera"), t("Seen"), t("Marked by")].map((h) => el("th", { text: h }))), ...marks])
      : el("p", { class: "muted", text: t("No track is marked yet: mark them on a track's page.") }));
    $("export-same").disabled = !c.marks.some((m) => m.mark === "same");
    $("case-trails").replaceChildren(entryList(c.trails, (e) => t("{time}: {user} followed track {id}.", { time: fmtTime(e.at), user: e.user, id: (e.details || {}).track_id })));
    $("case-holds").replaceChildren(holdsTable(c.holds, () => load().catch(() => {})));
    $("case-exports").replaceChildren(entryList(c.exports, (x) => t("{time}: {user} exported tracks {ids} ({kind}); SHA-256 {sum}.", {
      time: fmtTime(x.created_at), user: x.username, ids: x.track_ids.join(", "), kind: x.blurred ? t("blurred") : t("unblurred"), sum: x.sha256,
    })));
    $("case-synopses").replaceChildren(entryList(c.synopses, (e) => t("{time}: {user} made a synopsis of camera {camera}.", { time: fmtTime(e.at), user: e.user, camera: (e.details || {}).camera || "" })));
  }
  $("export-form").addEventListener("submit", (ev) => { ev.preventDefault(); exportJob(ref, $("export-status"), $("export-same"), () => load().catch(() => {})); });
  await load();
}

(async function () {
  try {
    await setupCaseBanner();
    const page = document.body.dataset.page;
    if (page === "track" && CASES.canOpen) await setupTrackCase();
    if (page === "case") await setupCasePage();
  } catch (e) {
    if (!(e instanceof ApiFailure)) showError(String(e && e.message ? e.message : e));
  }
})();

/* Vigie: the alerts page. A list, a live feed (server-sent events), and one click to validate or dismiss.
   Data goes into the DOM with textContent only, as in app.js. */
"use strict";

function alertCard(a, onDecided) {
  const when = fmtTime(a.start) + (a.end ? " – " + fmtTime(a.end) : "");
  const details = Object.entries(a.details || {}).map(([k, v]) => k + ": " + (typeof v === "number" ? Number(v.toFixed ? v.toFixed(2) : v) : v)).join(" · ");
  const card = el("article", { class: "alert " + a.status, "data-alert": String(a.id) }, [
    a.has_snapshot ? el("img", { src: withJust("/api/alerts/" + a.id + "/snapshot"), alt: t("snapshot of alert {id} (blurred)", { id: a.id }) }) : el("div", { class: "nothumb", text: t("no snapshot") }),
    el("div", { class: "body" }, [
      el("strong", { text: alertKind(a.kind) + " · " + a.rule }),
      el("span", { class: "line", text: a.camera_id + " · " + when }),
      el("span", { class: "line muted", text: t("tracks {ids}", { ids: (a.track_ids || []).join(", ") }) + (details ? " · " + details : "") }),
      el("span", { class: "line state", text: a.status === "new" ? t("waiting for a decision") : (a.status === "validated" ? t("validated by {user} at {time}", { user: a.decided_by, time: fmtTime(a.decided_at) }) : a.status === "dismissed" ? t("dismissed by {user} at {time}", { user: a.decided_by, time: fmtTime(a.decided_at) }) : t("{status} by {user} at {time}", { status: a.status, user: a.decided_by, time: fmtTime(a.decided_at) })) + (a.note ? " (" + a.note + ")" : "") }),
    ]),
  ]);
  if (a.status === "new") {
    const note = el("input", { class: "note", placeholder: t("note (optional)"), maxlength: "1000", "aria-label": t("note for alert {id}", { id: a.id }) });
    const decide = async (decision) => {
      try {
        const r = await api("/api/alerts/" + a.id + "/decision", { method: "POST", body: Object.assign({ decision: decision, note: note.value.trim() || null }, justification()) });
        onDecided(Object.assign({}, a, r, { note: note.value.trim() || null }));
      } catch (e) { /* shown */ }
    };
    const ok = el("button", { type: "button", class: "validate", text: t("Validate") });
    const no = el("button", { type: "button", class: "dismiss", text: t("Dismiss") });
    ok.addEventListener("click", () => decide("validate"));
    no.addEventListener("click", () => decide("dismiss"));
    card.querySelector(".body").append(el("div", { class: "actions" }, [ok, no, note]));
  }
  return card;
}

pages.alerts = async function () {
  const box = $("alerts");
  const filter = $("status");
  function replaceCard(a) {
    const old = box.querySelector('[data-alert="' + a.id + '"]');
    const card = alertCard(a, replaceCard);
    if (old) old.replaceWith(card); else box.prepend(card);
    if (filter.value && a.status !== filter.value) card.remove();
  }
  async function load() {
    const q = new URLSearchParams({ limit: 100 });
    if (filter.value) q.set("status", filter.value);
    const r = await api(withJust("/api/alerts?" + q.toString()));
    box.replaceChildren(...r.items.map((a) => alertCard(a, replaceCard)));
    if (!r.items.length) box.append(el("p", { class: "muted empty", text: t("No alerts.") }));
    return r.items.length ? Math.max(...r.items.map((a) => a.id)) : 0;
  }
  let feed = null;
  function listen(newest) {
    // The feed starts after the newest alert listed; the browser reconnects by itself with Last-Event-ID.
    if (feed) feed.close();
    feed = new EventSource(withJust("/api/alerts/stream", { after: newest }));
    feed.addEventListener("open", () => { $("feed-state").textContent = t("live"); });
    feed.addEventListener("error", () => { $("feed-state").textContent = t("reconnecting…"); });
    feed.addEventListener("alert", (ev) => {
      const a = JSON.parse(ev.data);
      const empty = box.querySelector(".empty");
      if (empty) empty.remove();
      if (!filter.value || a.status === filter.value) replaceCard(a);
    });
  }
  const start = () => load().then(listen).catch(() => {});
  filter.addEventListener("change", () => load().catch(() => {}));
  // investigators give a case reference and a purpose first: the list and the feed start (again) with them
  for (const k of ["case_ref", "purpose"]) $(k).addEventListener("change", start);
  await start();
};

/* pages.dashboard: static/dashboard.js */

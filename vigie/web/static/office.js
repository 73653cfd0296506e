/* Vigie: the auditor's and the admin's pages (loaded after app.js, which runs them).
   Data goes into the DOM with textContent only, as in app.js. */
"use strict";

// Stored text can be anyone's (a failed login's name): control and invisible format characters
// (bidirectional overrides, zero-width ones) are shown as escapes, so no row can hide or reorder text.
function printable(v) {
  return String(v).replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? "\\x" + code.toString(16).padStart(2, "0") : "\\u" + code.toString(16).padStart(4, "0");
  });
}

pages.audit = async function () {
  const limit = 50;
  let offset = 0;
  function filters() {
    const f = { user: $("f-user").value.trim(), action: $("f-action").value, case_ref: $("f-case").value.trim(),
      start: $("f-start").dataset.iso || "", end: $("f-end").dataset.iso || "" };  // read on the site's clock (clock.js)
    return Object.fromEntries(Object.entries(f).filter(([, v]) => v));
  }
  function exportLinks() {
    for (const fmt of ["csv", "jsonl"]) {
      const q = new URLSearchParams(Object.assign({ format: fmt }, filters()));
      $("export-" + fmt).setAttribute("href", "/api/audit/export?" + q.toString());
    }
  }
  async function load() {
    await siteTimesSettled();
    const q = new URLSearchParams(Object.assign({ limit: limit, offset: offset }, filters()));
    const r = await api("/api/audit?" + q.toString());
    // The filter offers every action the server records (the reply lists them), filled once.
    if ($("f-action").options.length <= 1) {
      for (const a of r.actions || []) $("f-action").append(el("option", { value: a, text: a }));
    }
    const head = el("tr", {}, ["#", t("time"), t("user"), t("role"), t("action"), t("case"), t("purpose"), t("details")].map((h) => el("th", { text: h })));
    const rows = r.items.map((e) => el("tr", {}, [
      el("td", { text: String(e.seq) }), el("td", { text: siteAndUtc(e.at) }), el("td", { text: printable(e.user) }),
      el("td", { text: printable(roleName(e.role)) }), el("td", { text: e.action }), el("td", { text: printable(e.case_ref || "") }),
      el("td", { class: "wrap", text: printable(e.purpose || "") }), el("td", { class: "wrap", text: e.details || "" }),
    ]));
    $("entries").replaceChildren(head, ...rows);
    $("page-info").textContent = r.items.length ? t("entries {first}–{last}", { first: offset + 1, last: offset + r.items.length }) : t("no entries");
    $("prev").disabled = offset === 0;
    $("next").disabled = r.items.length < limit;
    exportLinks();
  }
  $("audit-form").addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; load().catch(() => {}); });
  $("prev").addEventListener("click", () => { offset = Math.max(0, offset - limit); load().catch(() => {}); });
  $("next").addEventListener("click", () => { offset += limit; load().catch(() => {}); });
  $("verify").addEventListener("click", async () => {
    try {
      const v = await api("/api/audit/verify");
      // The chain is checked against the anchors kept outside the database, so a cut-off end shows.
      const anchored = v.anchors
        ? " " + t("Checked against {anchors} anchors (the newest records entry {seq}).", { anchors: v.anchors, seq: v.anchored_seq })
        : " " + t("No anchor yet: the server writes one at start, daily and at every purge.");
      const legacy = v.legacy_entries
        ? " " + t("Entries 1–{last} are legacy: chained before the audit key existed (unkeyed).", { last: v.legacy_entries })
        : "";
      $("verify-result").textContent = v.ok
        ? t("Chain intact: {entries} entries, last hash {hash}.", { entries: v.entries, hash: v.last_hash }) + anchored + legacy
        : v.first_bad_seq === null
          ? t("CHAIN CANNOT BE TRUSTED: {reason}", { reason: v.reason })
          : t("CHAIN BROKEN at entry {seq}: {reason}", { seq: v.first_bad_seq, reason: v.reason });
    } catch (e) { /* shown */ }
  });
  await load();
};

pages.admin = async function () {
  function secret(text) {
    const box = $("secret");
    box.hidden = false;
    box.textContent = text;
  }
  async function loadUsers() {
    const r = await api("/api/users?limit=1000");
    const roles = r.roles || [];
    const current = $("new-role").value;
    $("new-role").replaceChildren(...roles.map((x) => el("option", { value: x, text: roleName(x) })));
    if (roles.includes(current)) $("new-role").value = current;
    const head = el("tr", {}, [t("user"), t("role"), t("created"), t("state"), ""].map((h) => el("th", { text: h })));
    const rows = r.items.map((u) => {
      // every role; 'none' (an account whose role waits for a supervisor) is shown but cannot be chosen
      const choices = roles.includes(u.role) ? roles : [u.role, ...roles];
      const role = el("select", { "aria-label": t("role of {user}", { user: u.username }) }, choices.map((x) => el("option", { value: x, text: roleName(x) })));
      if (!roles.includes(u.role)) role.firstChild.disabled = true;
      role.value = u.role;
      role.addEventListener("change", async () => {
        try {
          const out = await api("/api/users/" + encodeURIComponent(u.username), { method: "PATCH", body: { role: role.value } });
          if (out.note) secret(out.note);
        } catch (e) { role.value = u.role; }
        loadUsers().catch(() => {});
      });
      const toggle = el("button", { type: "button", text: u.disabled ? t("Enable") : t("Disable") });
      toggle.addEventListener("click", async () => {
        try { await api("/api/users/" + encodeURIComponent(u.username), { method: "PATCH", body: { disabled: !u.disabled } }); } catch (e) { /* shown */ }
        loadUsers().catch(() => {});
      });
      const reset = el("button", { type: "button", text: t("Reset link") });
      reset.addEventListener("click", async () => {
        try {
          const p = await api("/api/users/" + encodeURIComponent(u.username) + "/password", { method: "POST" });
          secret(p.reset_link
            ? t("Reset link for {user} (give it to them only; it works once, until {until}): {link}", { user: p.username, until: fmtTime(p.link_expires_at), link: location.origin + p.reset_link })
            : t("Reset of {user}: request #{id} waits for a supervisor, who will hand the link to them.", { user: p.username, id: p.request_id }));
        } catch (e) { /* shown */ }
      });
      const state = u.disabled ? t("disabled") : (u.locked_until ? t("locked until {time}", { time: fmtTime(u.locked_until) }) : t("active"));
      const roleCell = u.pending_role ? [role, el("span", { class: "muted", text: " " + t("awaiting a supervisor: {role}", { role: roleName(u.pending_role) }) })] : [role];
      return el("tr", {}, [el("td", { text: u.username }), el("td", {}, roleCell), el("td", { text: fmtTime(u.created_at) }),
        el("td", { text: state }), el("td", {}, [toggle, document.createTextNode(" "), reset])]);
    });
    $("users").replaceChildren(head, ...rows);
  }
  async function loadSettings() {
    const s = await api("/api/settings");
    $("legal-max").textContent = t("Legal maximum retention for this site: {days} days. Purge runs daily while the server runs.", { days: s.legal_max_retention_days });
    $("controller").value = s.controller || "";
    const head = el("tr", {}, [t("camera"), t("retention (days)"), ""].map((h) => el("th", { text: h })));
    const rows = Object.entries(s.retention_days).map(([cam, days]) => {
      const input = el("input", { type: "number", min: "1", max: String(s.legal_max_retention_days), value: String(days), "aria-label": t("retention of {camera}", { camera: cam }) });
      const save = el("button", { type: "button", text: t("Save") });
      save.addEventListener("click", async () => {
        try { await api("/api/settings", { method: "PUT", body: { key: "retention_days:" + cam, value: Number(input.value) } }); } catch (e) { /* shown */ }
        loadSettings().catch(() => {});
      });
      return el("tr", {}, [el("td", { text: cam }), el("td", {}, [input]), el("td", {}, [save])]);
    });
    $("retention").replaceChildren(head, ...rows);
  }
  $("user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const u = await api("/api/users", { method: "POST", body: { username: $("new-username").value.trim(), role: $("new-role").value } });
      secret(u.pending_role
        ? t("Created {user} (role {role} awaiting a supervisor's approval). Enrolment link, for them only (it works once, until {until}): {link}", { user: u.username, role: roleName(u.pending_role), until: fmtTime(u.link_expires_at), link: location.origin + u.enrolment_link })
        : t("Created {user} ({role}). Enrolment link, for them only (it works once, until {until}): {link}", { user: u.username, role: roleName(u.role), until: fmtTime(u.link_expires_at), link: location.origin + u.enrolment_link }));
      $("new-username").value = "";
      await loadUsers();
    } catch (e) { /* shown */ }
  });
  $("controller-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await api("/api/settings", { method: "PUT", body: { key: "controller", value: $("controller").value.trim() || null } }); } catch (e) { /* shown */ }
  });
  await loadUsers();
  await loadSettings();
};

/* Vigie: one's own password (the enrolment link, the change page) and the supervisor's approvals
   (loaded after app.js, which runs them). Data goes into the DOM with textContent only, as in app.js. */
"use strict";

/* The two new-password fields agree; the server's policy message goes next to the field. */
function newPassword() {
  const box = $("new-password-error");
  box.textContent = "";
  const pw = $("new-password").value;
  if (pw !== $("new-password-again").value) {
    box.textContent = t("The two new passwords differ.");
    return null;
  }
  return pw;
}

/* A field's error goes once the user types there again. */
function clearOnInput(pairs) {
  for (const [input, box] of pairs) $(input).addEventListener("input", () => { $(box).textContent = ""; });
}

function fieldError(e) {
  const field = e && e.data && e.data.field;
  if (field === "new_password" || field === "current_password") {
    $(field.replace("_", "-") + "-error").textContent = e.message;
    showError("");
  }
}

pages.enrol = async function () {
  // The token is in the fragment, which the browser never sends; drop it from the address bar and history.
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  history.replaceState(null, "", location.pathname);
  if (!token) { $("intro").textContent = t("This page needs the link an admin gave you."); return; }
  let info;
  try { info = await api("/api/enrol/check", { method: "POST", body: { token: token } }); } catch (e) { $("intro").textContent = ""; return; }
  $("intro").textContent = info.kind === "enrol"
    ? t("Welcome. Choose the password of your account {user}. This link works once, until {until}.", { user: info.username, until: fmtTime(info.expires_at) })
    : t("Choose a new password for {user}. This link works once, until {until}.", { user: info.username, until: fmtTime(info.expires_at) });
  $("enrol-username").value = info.username;
  $("enrol-form").hidden = false;
  clearOnInput([["new-password", "new-password-error"], ["new-password-again", "new-password-error"]]);
  $("enrol-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const pw = newPassword();
    if (pw === null) return;
    try {
      await api("/api/enrol", { method: "POST", body: { token: token, new_password: pw } });
      $("enrol-form").hidden = true;
      $("intro").textContent = "";
      $("done").hidden = false;
    } catch (e) { fieldError(e); }
  });
};

pages.password = async function () {
  const me = VIGIE.me || {};
  $("must-change").hidden = !me.must_change_password;
  $("no-role").hidden = me.role !== "none";
  clearOnInput([["current-password", "current-password-error"], ["new-password", "new-password-error"],
    ["new-password-again", "new-password-error"]]);
  $("password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("current-password-error").textContent = "";
    $("done").textContent = "";
    const pw = newPassword();
    if (pw === null) return;
    try {
      const r = await api("/api/password", { method: "POST", body: { current_password: $("current-password").value, new_password: pw } });
      for (const id of ["current-password", "new-password", "new-password-again"]) $(id).value = "";
      $("must-change").hidden = true;
      $("done").textContent = t("Password changed. Your other sessions are closed.");
      VIGIE.me = r;
      if (me.must_change_password && r.role !== "none") window.location.assign(homeFor(r.role));
    } catch (e) { fieldError(e); }
  });
};

function describeRequest(r) {
  if (r.kind === "unblur") return t("Unblurred view of track #{id}. Reason: {reason}", { id: r.track_id, reason: r.reason || "" });
  if (r.kind === "role") return t("Give {user} the role {role}", { user: r.target_user, role: roleName(r.role) });
  return t("Reset the password of {user} (the link is given to you)", { user: r.target_user });
}

pages.approvals = async function () {
  function secret(text) {
    const box = $("secret");
    box.hidden = false;
    box.textContent = text;
  }
  async function load() {
    const r = await api("/api/approvals?status=pending&limit=1000");
    const head = el("tr", {}, ["#", t("asked"), t("by"), t("request"), t("case"), t("purpose"), t("note"), ""].map((h) => el("th", { text: h })));
    const rows = r.items.map((q) => {
      const note = el("input", { maxlength: "1000", "aria-label": t("note on request {id}", { id: q.id }) });
      const buttons = ["approve", "reject"].map((d) => {
        const b = el("button", { type: "button", text: d === "approve" ? t("Approve") : t("Reject"), "aria-label": d === "approve" ? t("approve request {id}", { id: q.id }) : t("reject request {id}", { id: q.id }) });
        b.addEventListener("click", async () => {
          try {
            const out = await api("/api/approvals/" + q.id, { method: "POST", body: { decision: d, note: note.value.trim() || null } });
            if (out.reset_link) secret(t("Reset link for {user} (give it to them only; it works once, until {until}): {link}", { user: out.target_user, until: fmtTime(out.link_expires_at), link: location.origin + out.reset_link }));
            else secret(out.status === "approved" ? t("Request #{id} approved.", { id: q.id }) : out.status === "rejected" ? t("Request #{id} rejected.", { id: q.id }) : t("Request #{id}: {status}.", { id: q.id, status: out.status }));
          } catch (e) { /* shown */ }
          load().catch(() => {});
        });
        return b;
      });
      return el("tr", { "data-request": String(q.id) }, [
        el("td", { text: String(q.id) }), el("td", { text: fmtTime(q.requested_at) }),
        el("td", { text: t("{user} ({role})", { user: q.requested_by, role: roleName(q.requester_role) }) }), el("td", { class: "wrap", text: describeRequest(q) }),
        el("td", { text: q.case_ref || "" }), el("td", { class: "wrap", text: q.purpose || "" }),
        el("td", {}, [note]), el("td", {}, [buttons[0], document.createTextNode(" "), buttons[1]]),
      ]);
    });
    $("requests").replaceChildren(head, ...rows);
    $("none-pending").hidden = r.items.length > 0;
  }
  $("reload").addEventListener("click", () => load().catch(() => {}));
  await load();
};

/* Vigie: the moderators' queue of citizen reports. Read, redact what names or describes a person, then accept,
   reject (with a reason) or merge into an earlier report; later, open or close an accepted report with notes.
   Contact details are shown to moderators only and marked so. Data goes into the DOM with textContent only. */
"use strict";

const MODERATION = {
  pageSize: 20,
  serviceNames: {},  // service_code -> its name, from the public services list
};

function serviceText(r) {
  const name = r.service_name || MODERATION.serviceNames[r.service_code];
  return name ? t("{name} ({code})", { name: name, code: r.service_code }) : r.service_code;
}

/* A report's private contact details (moderators only: the API gives them under `contact`). */
function contactText(r) {
  const c = r.contact;
  const parts = [c.email, c.phone, [c.first_name, c.last_name].filter(Boolean).join(" ")].filter(Boolean);
  return parts.length ? parts.join(" · ") : t("none given");
}

function hasPhoto(r) { return r.has_photo; }

function photoOf(r) {
  if (!hasPhoto(r)) return el("div", { class: "nothumb", text: t("no photo") });
  const src = "/api/reports/" + encodeURIComponent(r.id) + "/photo";
  const img = el("img", { src: src, alt: t("photo sent with report {id} (blurred)", { id: r.id }), loading: "lazy" });
  img.addEventListener("error", () => { img.replaceWith(el("div", { class: "nothumb", text: t("photo unavailable") })); }, { once: true });
  return el("a", { href: src, target: "_blank", rel: "noopener", title: t("open the photo full size") }, [img]);
}

function stateText(r) {
  const when = r.moderated_at ? " " + t("at {time}", { time: fmtTime(r.moderated_at) }) : "";
  const by = r.moderated_by ? " " + t("by {user}", { user: r.moderated_by }) : "";
  const status = { open: t("open"), closed: t("closed") }[r.status || "open"] || r.status;
  if (r.moderation === "pending") return t("pending: waiting for a decision");
  if (r.moderation === "rejected") return t("rejected") + by + when + (r.reject_reason ? " (" + r.reject_reason + ")" : "");
  if (r.moderation === "merged") return t("merged into #{id}", { id: r.merged_into }) + by + when;
  return t("accepted") + by + when + " · " + status + (r.status_notes ? " (" + r.status_notes + ")" : "");
}

/* One button that posts, then says what happened (in the card and in the page's status line). */
function action(label, cls, run) {
  const b = el("button", { type: "button", class: cls, text: label });
  b.addEventListener("click", run);
  return b;
}

/* Redact: the edited description replaces the old one (which is not kept); with a photo, it may go too
   (a person the blurrer missed, for instance). */
function redactControls(r, desc, post) {
  const dropPhoto = el("input", { type: "checkbox", class: "drop-photo" });
  const run = () => post("redact", { description: desc.value, remove_photo: dropPhoto.checked },
    dropPhoto.checked ? t("Report #{id} redacted: its description is replaced and its photo deleted; the original is not kept.", { id: r.id }) : t("Report #{id} redacted: its description is replaced; the original is not kept.", { id: r.id }));
  const out = [action(t("Redact"), "redact secondary", run)];
  if (hasPhoto(r)) out.push(el("label", { class: "inline" }, [dropPhoto, t("also delete the photo")]));
  return out;
}

function reportCard(r, ctx) {
  const id = encodeURIComponent(r.id);
  const msg = el("p", { class: "card-msg error", role: "status" });
  async function post(path, body, done) {
    msg.textContent = "";
    try {
      await api("/api/reports/" + id + "/" + path, { method: "POST", body: body });
      ctx.done(done);
    } catch (e) { msg.textContent = e.message; }
  }
  const desc = el("textarea", { class: "desc", rows: "4", "aria-label": t("description of report {id}", { id: r.id }) });
  desc.value = r.description || "";
  const where = Number.isFinite(r.lat) && Number.isFinite(r.lon)
    ? action(Number(r.lat).toFixed(5) + ", " + Number(r.lon).toFixed(5), "link where", () => ctx.show(r))
    : el("span", { class: "muted", text: r.address_string || t("no position") });
  const body = el("div", { class: "body" }, [
    el("strong", { text: "#" + r.id + " · " + serviceText(r) }),
    el("span", { class: "line" }, [el("span", { text: fmtTime(r.requested_at) + " · " }), where]),
    el("span", { class: "line state", text: stateText(r) }),
    el("label", {}, [t("Description (edit it to remove what names or describes a person, then Redact)") + (r.redacted ? " · " + t("redacted before") : ""), desc]),
    el("div", { class: "actions" }, redactControls(r, desc, post)),
    el("p", { class: "private" }, [el("strong", { text: t("Contact (private, never published):") + " " }), el("span", { class: "contact", text: contactText(r) })]),
  ]);
  if (r.moderation === "pending") {
    const reason = el("input", { class: "reason", placeholder: t("reason (required to reject)"), maxlength: "1000", "aria-label": t("reason to reject report {id}", { id: r.id }) });
    body.append(el("div", { class: "actions" }, [
      action(t("Accept"), "accept", () => post("decision", { decision: "accept" }, t("Report #{id} accepted: it is now public.", { id: r.id }))),
      reason,
      action(t("Reject"), "reject dismiss", () => {
        if (!reason.value.trim()) { msg.textContent = t("Give a reason to reject the report: the person who sent it reads it."); return; }
        post("decision", { decision: "reject", reason: reason.value.trim() }, t("Report #{id} rejected.", { id: r.id }));
      }),
    ]));
  }
  if (r.moderation === "pending" || r.moderation === "accepted") {  // a duplicate may be found after acceptance too
    const into = el("input", { class: "into", type: "number", min: "1", step: "1", placeholder: t("report #"), "aria-label": t("report to merge report {id} into", { id: r.id }) });
    body.append(el("div", { class: "actions" }, [
      into,
      action(t("Merge into #"), "merge secondary", () => {
        if (!into.value) { msg.textContent = t("Give the number of the accepted report this one repeats."); return; }
        post("decision", { decision: "merge", merge_into: Number(into.value) }, t("Report #{id} merged into #{into}.", { id: r.id, into: into.value }));
      }),
    ]));
  }
  if (r.moderation === "accepted") {
    const status = el("select", { class: "status", "aria-label": t("status of report {id}", { id: r.id }) }, [
      el("option", { value: "open", text: t("open") }), el("option", { value: "closed", text: t("closed") })]);
    status.value = r.status || "open";
    const notes = el("input", { class: "notes", placeholder: t("public notes (e.g. repaired on …)"), maxlength: "1000", "aria-label": t("status notes of report {id}", { id: r.id }) });
    notes.value = r.status_notes || "";
    body.append(el("div", { class: "actions" }, [status, notes,
      action(t("Update status"), "update", () => post("status", { status: status.value, status_notes: notes.value.trim() }, status.value === "closed" ? t("Report #{id} is now closed.", { id: r.id }) : t("Report #{id} is now open.", { id: r.id })))]));
  }
  body.append(msg);
  return el("article", { class: "alert report " + r.moderation, "data-report": String(r.id) }, [photoOf(r), body]);
}

pages.moderation = async function () {
  const map = await makeMap("map", { blank: t("No map tiles configured: the reports are drawn on a blank background, the cameras of the public register as landmarks.") });
  const markers = map ? L.layerGroup().addTo(map) : null;
  if (map && !VIGIE.tileUrl) drawLandmarks(map, false).catch(() => {});
  let offset = 0;

  const ctx = {
    show(r) {
      if (!map) return;
      map.setView([r.lat, r.lon], 17);
      markers.eachLayer((m) => { if (m.options.reportId === r.id) m.openTooltip(); });
    },
    done(text) {  // said once the list is redrawn: the cards then show the new state
      load().catch(() => {}).finally(() => { $("done-msg").textContent = text; });
    },
  };

  function drawMarkers(items) {
    if (!map) return;
    markers.clearLayers();
    const pts = [];
    for (const r of items) {
      if (!Number.isFinite(r.lat) || !Number.isFinite(r.lon)) continue;
      L.circleMarker([r.lat, r.lon], { radius: 7, color: "#fff", weight: 2, fillColor: "#8b5cf6", fillOpacity: 0.9, reportId: r.id })
        .bindTooltip(el("span", { text: "#" + r.id + " " + serviceText(r) }))
        .on("click", () => { const card = document.querySelector('[data-report="' + r.id + '"]'); if (card) card.scrollIntoView({ block: "center" }); })
        .addTo(markers);
      pts.push([r.lat, r.lon]);
    }
    fitTo(map, pts);
  }

  async function load() {
    const state = $("moderation").value;
    const page = await api("/api/reports?" + new URLSearchParams({ moderation: state, limit: MODERATION.pageSize, offset: offset }));
    const items = page.items || [];
    $("reports").replaceChildren(...items.map((r) => reportCard(r, ctx)));
    if (!items.length) $("reports").append(el("p", { class: "muted", text: { pending: t("No pending report."), accepted: t("No accepted report."), rejected: t("No rejected report."), merged: t("No merged report.") }[state] || t("No report.") }));
    const total = page.total !== undefined ? page.total : items.length;
    $("total").textContent = total ? t("{first}–{last} of {total}", { first: offset + 1, last: offset + items.length, total: total }) : "";
    $("prev").disabled = offset <= 0;
    $("next").disabled = offset + items.length >= total;
    drawMarkers(items);
  }

  try {
    for (const sv of await api("/open311/v2/services.json")) MODERATION.serviceNames[sv.service_code] = sv.service_name;
  } catch (e) { /* codes only then */ }
  $("moderation").addEventListener("change", () => { offset = 0; $("done-msg").textContent = ""; load().catch(() => {}); });
  $("prev").addEventListener("click", () => { offset = Math.max(0, offset - MODERATION.pageSize); load().catch(() => {}); });
  $("next").addEventListener("click", () => { offset += MODERATION.pageSize; load().catch(() => {}); });
  await load();
};

/* Vigie: the public citizen report form (/report) and its follow-up page (/report/status), over Open311
   GeoReport v2. No login, no session: these pages use only the public endpoints. The server's answers go into
   the DOM with textContent only, as in app.js. */
"use strict";

const REPORT = {
  config: { tile_url: null, attribution: "", max_zoom: 19, center: null, max_description_chars: 2000, max_photo_bytes: 8000000 },
  photoTypes: ["image/jpeg", "image/png", "image/webp"],
  moderation: {  // a report's moderation state, in words for the person who sent it
    pending: t("Pending: waiting for a moderator to read it."),
    accepted: t("Accepted: it is published."),
    rejected: t("Rejected: it will not be published."),
    merged: t("Merged: another report already describes this problem; yours was joined to it."),
  },
};

/* Open311 answers errors as [{code, description}]: the description, in words, or the HTTP status. */
async function open311(path, options) {
  // No cookie goes (the public form has no session): the page's language is said in a header instead.
  const given = options || {};
  const headers = Object.assign({ "X-Vigie-Language": window.VIGIE_LANG || "" }, given.headers || {});
  const res = await fetch(path, Object.assign({ credentials: "omit" }, given, { headers: headers }));
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const first = Array.isArray(data) ? data[0] : data;
    let msg = (first && (first.description || first.error)) || t("The server refused the request (HTTP {status}).", { status: res.status });
    const wait = Number(res.headers.get("Retry-After"));
    if (res.status === 429 && wait > 0) msg += " " + t("You can send another report in about {minutes} minute(s).", { minutes: Math.max(1, Math.ceil(wait / 60)) });
    throw new ApiFailure(msg, res.status, data);
  }
  return data;
}

/* A file's size in the unit that reads best: "850 bytes", "48 kB", "3.2 MB" (never "0.00 MB"). */
function megabytes(n) {
  const dec = (v) => v.toLocaleString(window.VIGIE_LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false });
  if (n < 1000) return t("{count} bytes", { count: n });
  if (n < 1e6) return t("{size} kB", { size: n < 1e4 ? dec(n / 1e3) : Math.round(n / 1e3) });
  return t("{size} MB", { size: n < 1e7 ? dec(n / 1e6) : Math.round(n / 1e6) });
}

/* The follow-up code to the clipboard (a phone's long press on a code is fiddly); said in words either way. */
async function copyToken() {
  const code = $("token").textContent;
  try {
    await navigator.clipboard.writeText(code);
    $("copied").textContent = t("Copied: paste it somewhere safe.");
  } catch (e) {
    const range = document.createRange();  // no clipboard here: the code is selected for the person to copy
    range.selectNodeContents($("token"));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    $("copied").textContent = t("Select and copy the code above: this browser does not let the page copy it.");
  }
}

/* --- the form's parts ------------------------------------------------------------------------------------ */
function fillServices(services) {
  const select = $("service");
  const groups = new Map();
  for (const s of services) {
    const g = s.group || "";
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(el("option", { value: s.service_code, text: s.service_name }));
  }
  for (const [g, options] of groups) {
    if (g) select.append(el("optgroup", { label: g }, options));
    else select.append(...options);
  }
  select.addEventListener("change", () => {
    const s = services.find((x) => x.service_code === select.value);
    $("service-help").textContent = s ? s.description || "" : "";
  });
}

function updateCounter() {
  const max = REPORT.config.max_description_chars;
  // characters as the server counts them: code points, the ends trimmed, each line break sent as CR LF (two)
  const n = [...$("description").value.trim().replace(/\r?\n/g, "\r\n")].length;
  const over = n - max;
  $("desc-count").textContent = over > 0 ? t("{n} / {max} characters: {over} too many; shorten the description.", { n: n, max: max, over: over }) : t("{n} / {max} characters", { n: n, max: max });
  $("desc-count").classList.toggle("over", over > 0);
}

/* The chosen photo: previewed from a data: URL (the CSP allows data: images, no blob: needed), its size checked. */
function showPhoto() {
  const file = $("media").files[0];
  const preview = $("media-preview");
  preview.hidden = true;
  preview.removeAttribute("src");
  $("media-help").classList.remove("over");
  if (!file) { $("media-help").textContent = t("Faces and licence plates are blurred before anyone sees the photo; its location and camera data are removed."); return; }
  const problems = [];
  if (!REPORT.photoTypes.includes(file.type)) problems.push(t("this file is not a JPEG, PNG or WebP picture"));
  if (file.size > REPORT.config.max_photo_bytes) problems.push(t("it is {size}, more than the {max} accepted", { size: megabytes(file.size), max: megabytes(REPORT.config.max_photo_bytes) }));
  $("media-help").textContent = problems.length ? t("This photo will be refused: {problems}.", { problems: problems.join("; ") }) : t("{name}, {size}. Faces and licence plates are blurred before anyone sees it.", { name: file.name, size: megabytes(file.size) });
  $("media-help").classList.toggle("over", problems.length > 0);
  if (problems.length) return;
  const reader = new FileReader();
  reader.addEventListener("load", () => { preview.src = reader.result; preview.hidden = false; });
  reader.readAsDataURL(file);
}

/* The pin: a click on the map places it, a drag moves it, the coordinate fields follow (and lead when typed in). */
function setupPin(map) {
  let pin = null;
  function place(lat, lon, fromFields) {
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return;
    if (!fromFields) {
      $("lat").value = lat.toFixed(6);
      $("long").value = lon.toFixed(6);
    }
    if (!map) return;
    if (!pin) {
      pin = L.marker([lat, lon], { draggable: true, keyboard: true, title: t("the place reported"), alt: t("the place reported") }).addTo(map);
      pin.on("dragend", () => { const p = pin.getLatLng(); place(p.lat, p.lng); });
    } else pin.setLatLng([lat, lon]);
  }
  if (map) map.on("click", (ev) => place(ev.latlng.lat, ev.latlng.lng));
  for (const id of ["lat", "long"])
    $(id).addEventListener("change", () => place(parseFloat($("lat").value), parseFloat($("long").value), true));
  return { clear() { if (pin) { pin.remove(); pin = null; } } };
}

/* Client checks for what the person may have forgotten; the server checks everything again and says why. */
function missing() {
  if (!$("service").value) return t("Choose what kind of problem it is.");
  if (!$("lat").value || !$("long").value) return t("Show the place: click on the map, or type its latitude and longitude.");
  if (!$("description").value.trim()) return t("Describe the place and what happens there.");
  return "";
}

async function sendReport(pin) {
  const problem = missing();
  if (problem) { showError(problem); return; }
  const body = new FormData($("report-form"));
  if (!$("media").files.length) body.delete("media");  // no empty file part: no photo is no photo
  if (!$("email").value.trim()) body.delete("email");
  $("send").disabled = true;
  showError("");
  try {
    const answer = await open311("/open311/v2/requests.json", { method: "POST", body: body });
    const r = Array.isArray(answer) ? answer[0] : answer;
    $("token").textContent = r.token;
    $("copied").textContent = "";
    $("notice").textContent = r.service_notice || "";
    $("follow").setAttribute("href", "/report/status?token=" + encodeURIComponent(r.token));
    $("report-form").reset();
    pin.clear();
    showPhoto();
    updateCounter();
    $("done").hidden = false;
    $("done").scrollIntoView({ block: "nearest" });
  } catch (e) {
    showError(e.message);
  } finally {
    $("send").disabled = false;
  }
}

pages.report = async function () {
  try {
    REPORT.config = Object.assign(REPORT.config, await (await fetch("/report/map.json", { credentials: "omit" })).json());
  } catch (e) { /* the defaults then */ }
  updateCounter();
  $("description").addEventListener("input", updateCounter);
  $("report-form").addEventListener("input", () => showError(""));  // a refusal is about what was sent: it goes once changed
  $("media").addEventListener("change", showPhoto);
  const map = await makeMap("map", { config: REPORT.config, blank: t("No background map on this server: the cameras of the public register are drawn as landmarks.") });
  if (map && REPORT.config.center) map.setView(REPORT.config.center, 15);
  const pin = setupPin(map);
  $("report-form").addEventListener("submit", (ev) => { ev.preventDefault(); sendReport(pin); });
  $("another").addEventListener("click", () => { $("done").hidden = true; $("service").focus(); });
  $("copy-token").addEventListener("click", () => copyToken());
  try {
    fillServices(await open311("/open311/v2/services.json"));
  } catch (e) { showError(t("The list of problems could not be loaded: {reason}", { reason: e.message })); }
  if (map && !REPORT.config.tile_url) await drawLandmarks(map, !REPORT.config.center).catch(() => {});
};

/* --- the follow-up page ----------------------------------------------------------------------------------- */
function showState(r) {
  const rows = [
    ["Follow-up code", t("Follow-up code"), r.token],
    ["Moderation", t("Moderation"), REPORT.moderation[r.moderation] || r.moderation],
    ["Public request number", t("Public request number"), r.service_request_id !== null && r.service_request_id !== undefined ? "#" + r.service_request_id : t("none yet (given when a moderator accepts it)")],
    ["Status", t("Status"), r.status === "closed" ? t("closed: the problem was dealt with") : r.status === "open" ? t("open") : r.status || "–"],
    [r.moderation === "rejected" ? "Reason" : "Notes from the city", r.moderation === "rejected" ? t("Reason") : t("Notes from the city"), r.status_notes || "–"],
  ];
  // data-key: the row's English name, the same in every language (what the tests and a stylesheet hold on to)
  $("state").replaceChildren(...rows.map(([key, k, v]) => el("tr", { "data-key": key }, [el("th", { text: k }), el("td", { text: String(v || "") })])));
  $("state").hidden = false;
}

async function lookUp(token) {
  $("state").hidden = true;
  showError("");
  try {
    const answer = await open311("/open311/v2/tokens/" + encodeURIComponent(token) + ".json");
    const r = Array.isArray(answer) ? answer[0] : answer;
    if (!r) throw new ApiFailure(t("No report has this follow-up code."));
    showState(r);
  } catch (e) {
    showError(e.status === 404 ? t("No report has this follow-up code: check it, or it may be older than the time reports are kept.") : e.message);
  }
}

pages["report-status"] = async function () {
  const given = new URLSearchParams(location.search).get("token");
  $("status-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = $("token").value.trim();
    if (!token) { showError(t("Type the follow-up code you were given.")); return; }
    history.replaceState(null, "", "/report/status?token=" + encodeURIComponent(token));
    lookUp(token);
  });
  if (given) {
    $("token").value = given;
    await lookUp(given);
  }
};

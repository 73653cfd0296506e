/* Vigie control room: small vanilla script over the JSON API.
   Data from the API goes into the DOM with textContent / attributes only, never as markup. */
"use strict";

const VIGIE = {
  me: null,  // {username, role} once logged in
  // Map tiles: the site file's tile URL template (GET /api/map). null: maps are drawn on a
  // blank background with the camera markers only, which works offline.
  tileUrl: null,
  colours: ["black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"],
};

function $(id) { return document.getElementById(id); }

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children || []) node.append(c);
  return node;
}

function showError(text) {
  const box = $("error");
  if (box) box.textContent = text || "";
}

/* A refused request: the server's message, its HTTP status and its whole JSON answer (e.g. an import's problems). */
class ApiFailure extends Error {
  constructor(message, status, data) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

/* options.quiet: leave the page's shared error line alone (panels that load together each show their own error). */
async function api(path, options) {
  const { quiet, ...given } = options || {};
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, given);
  // a FormData body (a file upload) goes as multipart: the browser writes its Content-Type and boundary
  if (opts.body !== undefined && typeof opts.body !== "string" && !(opts.body instanceof FormData)) {
    opts.body = JSON.stringify(opts.body);
    opts.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && document.body.dataset.page !== "login") {
    // a session that ended (expired, or logged out elsewhere): the login page says so
    window.location.assign(data && data.expired ? "/?expired=1" : "/");
    throw new ApiFailure(t("You are not logged in."));
  }
  if (!res.ok) {
    const msg = data && data.error ? data.error : t("The request failed (HTTP {status}).", { status: res.status });
    if (!quiet) { showError(msg); markFields(data); }
    throw new ApiFailure(msg, res.status, data);
  }
  if (!quiet) showError("");
  return data;
}

/* --- justification: case reference and purpose, kept for the browser tab ---------------------- */
function justification() {
  const out = {};
  for (const k of ["case_ref", "purpose"]) {
    const input = $(k);
    const v = (input ? input.value : sessionStorage.getItem("vigie_" + k) || "").trim();
    if (v) out[k] = v;
  }
  return out;
}

function setupJustification() {
  for (const k of ["case_ref", "purpose"]) {
    const input = $(k);
    if (!input) continue;
    input.value = sessionStorage.getItem("vigie_" + k) || "";
    input.addEventListener("input", () => sessionStorage.setItem("vigie_" + k, input.value));
  }
}

function withJust(path, extra) {
  const params = new URLSearchParams(Object.assign({}, extra || {}, justification()));
  const q = params.toString();
  return q ? path + (path.includes("?") ? "&" : "?") + q : path;
}

function thumbUrl(trackId) { return withJust("/api/tracks/" + encodeURIComponent(trackId) + "/thumbnail"); }

/* --- nav ------------------------------------------------------------------------------------------ */
async function setupNav() {
  const logout = $("logout");
  if (!logout) return;
  logout.addEventListener("click", async () => {
    try { await api("/api/logout", { method: "POST" }); } catch (e) { /* already out */ }
    sessionStorage.removeItem("vigie_case_ref");
    sessionStorage.removeItem("vigie_purpose");
    window.location.assign("/");
  });
  const me = await api("/api/me", { quiet: true });  // quiet: never clears the error of what the person did meanwhile
  VIGIE.me = me;
  const page = document.body.dataset.page;
  if ((me.must_change_password || me.role === "none") && page !== "password") {
    window.location.assign("/password");  // the server refuses the rest until then
    throw new ApiFailure(t("Change your password first."));
  }
  $("who").textContent = t("{user} ({role})", { user: me.username, role: roleName(me.role) });
  showForRole(me.role);
  document.head.append(el("script", { src: "/static/cases.js", defer: "" }));  // the session's case (cases.js)
}

/* Elements marked data-roles="a b" are for those roles only (the server checks again: this is only tidiness). */
function showForRole(role) {
  for (const node of document.querySelectorAll("[data-roles]"))
    node.hidden = !node.dataset.roles.split(" ").includes(role);
}

/* A role as the person reads it (the API's role names are English words). */
function roleName(role) {
  const names = { operator: t("operator"), investigator: t("investigator"), auditor: t("auditor"), admin: t("admin"), analyst: t("analyst"), moderator: t("moderator"), supervisor: t("supervisor"), none: t("none") };
  return names[role] || role;
}

/* The API's words (colours, classes, directions) as the person reads them; unknown words are shown as they are. */
function word(w) {
  const words = {
    black: t("black"), white: t("white"), grey: t("grey"), red: t("red"), orange: t("orange"), yellow: t("yellow"), green: t("green"),
    blue: t("blue"), purple: t("purple"), pink: t("pink"), brown: t("brown"), person: t("person"), bicycle: t("bicycle"), car: t("car"),
    motorcycle: t("motorcycle"), bus: t("bus"), truck: t("truck"), backpack: t("backpack"), handbag: t("handbag"), suitcase: t("suitcase"),
    north: t("north"), south: t("south"), east: t("east"), west: t("west"), left: t("left"), right: t("right"), up: t("up"), down: t("down"),
    van: t("van"), yes: t("yes"), no: t("no"), unknown: t("unknown"),
    bag: t("bag"), hat: t("hat"), long_sleeves: t("long sleeves"), long_trousers: t("long trousers"), coat: t("coat"),
  };
  return Object.prototype.hasOwnProperty.call(words, w) ? words[w] : w;
}

/* A number in the page's language (decimal comma in French). */
function fmtNumber(v, digits) {
  return Number(v).toLocaleString(window.VIGIE_LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
}

/* An alert's kind (a rule type) as the person reads it: the alerts page, and the crime map's categories
   (a validated alert's category is its rule type). Other words are shown as they are, underscores as spaces. */
function alertKind(kind) {
  const kinds = { zone_intrusion: t("zone intrusion"), line_crossing: t("line crossing"), loitering: t("loitering"), counter_flow: t("counter-flow"), gathering: t("gathering"), density: t("crowd density"), crowd_movement: t("crowd movement"), abandoned_object: t("abandoned object"), person_on_ground: t("person on the ground") };
  return Object.prototype.hasOwnProperty.call(kinds, kind) ? kinds[kind] : String(kind).replace(/_/g, " ");
}

function homeFor(role) {
  return { auditor: "/audit", admin: "/admin", analyst: "/crimemap", moderator: "/moderation", supervisor: "/approvals", none: "/password" }[role] || "/map";
}

/* A POST whose answer is a file (an export): saved through a temporary link. */
async function download(path, body, fallbackName) {
  const res = await fetch(path, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) {
    let msg = t("The request failed (HTTP {status}).", { status: res.status });
    try { msg = (await res.json()).error || msg; } catch (e) { /* not JSON */ }
    showError(msg);
    throw new ApiFailure(msg);
  }
  const name = (/filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "") || [])[1] || fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { name: name, sha256: res.headers.get("X-Vigie-SHA256") };
}

/* --- result grid ---------------------------------------------------------------------------------- */
function hitCard(hit) {
  const id = hit.track_id;
  const img = el("img", { src: thumbUrl(id), alt: t("Track {id}", { id: id }), loading: "lazy" });
  img.addEventListener("error", () => { img.replaceWith(el("div", { class: "nothumb", text: t("no picture") })); }, { once: true });
  const colours = [].concat(hit.upper || [], hit.lower || [], hit.body || []).slice(0, 4).map(word).join(", ")
    + (hit.vehicle_type ? " · " + word(hit.vehicle_type) : "");
  return el("a", { class: "card", href: "/track/" + encodeURIComponent(id) }, [
    img,
    el("span", { class: "line", text: "#" + id + " " + word(hit.class_name || "") + (hit.score !== undefined && hit.score !== null ? " · " + fmtNumber(hit.score, 2) : "") }),
    el("span", { class: "line muted", text: (hit.camera_name || hit.camera_id || "") }),
    el("span", { class: "line muted", text: fmtTime(hit.first_seen) }),
    el("span", { class: "line muted", text: colours }),
  ]);
}

/* "long_trousers" -> "long trousers": the API's attribute names as a person reads them. */
function attributeLabel(name) { const w = word(name); return w !== name ? w : String(name).replace(/_/g, " "); }

function fillGrid(grid, hits) {
  grid.replaceChildren(...hits.map(hitCard));
  if (!hits.length) grid.append(el("p", { class: "muted", text: t("No tracks.") }));
}

/* A time on the site's clock, labelled: "06/12/2026 14:05 (Paris time)" (static/clock.js), never the browser's zone. */
function fmtTime(iso) { return siteTime(iso); }

/* The attributes a person reads on the track page, labelled and rounded; times on the site's clock. */
function trackAttributes(tr) {
  const num = (v, digits, unit) => (v === null || v === undefined ? null : fmtNumber(v, digits) + (unit ? " " + unit : ""));
  const when = (iso) => (iso ? siteTime(iso, true) : null);
  const list = (v) => (Array.isArray(v) && v.length ? v.map(word).join(", ") : null);
  // Clothing and carried objects: only those the site lets investigators search by (tr.searchable).
  const attrs = tr.attributes || {};
  const known = (state) => (tr.searchable || []).filter((a) => attrs[a] === state).map(attributeLabel);
  const rows = [
    [t("Class"), word(tr.class)],
    [t("Camera"), tr.camera_id],
    [t("First seen"), when(tr.first_seen)],
    [t("Last seen"), when(tr.last_seen)],
    [t("In view"), num(tr.dwell_s, 1, "s")],
    [t("Upper body"), list(tr.upper)],
    [t("Lower body"), list(tr.lower)],
    [t("Body colour"), list(tr.body)],
    [t("Wearing or carrying"), list(known("yes"))],
    [t("Not wearing or carrying"), list(known("no"))],
    [t("Vehicle type"), attrs.vehicle_type ? word(attrs.vehicle_type) : attrs.vehicle_type],
    [t("Vehicle colour (network)"), attrs.vehicle_colour ? word(attrs.vehicle_colour) : attrs.vehicle_colour],
    [t("Direction"), tr.direction ? word(tr.direction) : tr.direction],
    [t("Speed"), tr.speed_m_s !== null && tr.speed_m_s !== undefined ? num(tr.speed_m_s, 2, "m/s") : num(tr.speed_px_s, 0, "px/s")],
    [t("Height on screen"), num(tr.median_height_px, 0, "px")],
    [t("Frames with a box"), tr.n_points],
    [t("Recording"), tr.source_name],
    [t("Track id"), tr.id],
  ];
  return rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => [k, String(v)]);
}

/* ISO 8601 to milliseconds (microseconds dropped: not every parser takes six decimals). */
function isoMs(iso) { return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1")); }

/* Where the moment `iso` is in a track's clip, in seconds (the middle of its frame). The clip starts its
   lead-in (1 s of frames, fewer at the very start of the recording) before the track's first point and plays
   at the recording's rate, which the points give: frame numbers (seq) over their times. */
function clipSeconds(points, iso) {
  const first = points[0], last = points[points.length - 1];
  const span = (isoMs(last.t) - isoMs(first.t)) / 1000;
  const fps = last.seq > first.seq && span > 0 ? (last.seq - first.seq) / span : 0;
  const lead = fps ? Math.min(first.seq, Math.round(fps)) / fps : 1;
  return (isoMs(iso) - isoMs(first.t)) / 1000 + lead + (fps ? 0.5 / fps : 0);
}

function splitList(v) { return placeList(v); }  // camera names hold commas: static/places.js cuts at ";"
/* Camera ids in a link (?camera=cam-a,cam-b on the playback page and the live wall): ids hold no comma, so
   a list of them is cut at commas (and ";" or spaces); these pages do not load places.js. */
function idList(v) { return String(v || "").split(/[,;\s]+/).filter(Boolean); }

/* --- maps ----------------------------------------------------------------------------------------- */
/* A Leaflet map in element `id`. opts.config: the tiles' settings when the page has them already (the public
   report form, which has no session for /api/map); opts.blank: what the map says without tiles. */
async function makeMap(id, opts) {
  const o = opts || {};
  try {
    const cfg = o.config || await api("/api/map");
    VIGIE.tileUrl = cfg.tile_url;
    VIGIE.tileAttribution = cfg.attribution;
    VIGIE.maxZoom = cfg.max_zoom;
  } catch (e) { /* no tiles then */ }
  const msg = $("map-msg");
  if (typeof window.L === "undefined") {
    const box = $(id);
    if (box) box.classList.add("nomap");
    if (msg) msg.textContent = t("The map library (Leaflet) is not installed on this server: run `npm install leaflet@1.9.4` in the Vigie folder. The data is listed below instead.");
    return null;
  }
  const map = L.map(id, { attributionControl: Boolean(VIGIE.tileAttribution), zoomSnap: 0.25 });
  if (VIGIE.tileUrl) L.tileLayer(VIGIE.tileUrl, { maxZoom: VIGIE.maxZoom || 19, attribution: VIGIE.tileAttribution || "" }).addTo(map);
  else if (msg) msg.textContent = o.blank || t("No map tiles configured: cameras are drawn on a blank background.");
  map.setView([46.6, 2.4], 5);
  return map;
}

/* Without background tiles a map is blank: the public register's cameras are drawn as named landmarks, for the
   reader to find their bearings. The register is public: no session needed. `into`: a layer to draw them in
   (default: the map itself); fit: frame the map on them. */
async function drawLandmarks(map, fit, into) {
  const reg = await (await fetch("/register.json", { credentials: "omit" })).json();
  const pts = [];
  for (const c of reg.cameras || []) {
    L.circleMarker([c.lat, c.lon], { radius: 4, color: "#555", weight: 1, fillColor: "#999", fillOpacity: 0.8, interactive: false })
      .bindTooltip(el("span", { text: c.name + (c.commune ? ", " + c.commune : "") }), { permanent: true, direction: "right", className: "landmark" })
      .addTo(into || map);
    pts.push([c.lat, c.lon]);
  }
  if (fit && pts.length > 1) map.fitBounds(L.latLngBounds(pts), { padding: [60, 60], maxZoom: 16 });
}

function fitTo(map, latlngs) {
  if (!map || !latlngs.length) return;
  if (latlngs.length === 1) map.setView(latlngs[0], 16);
  else map.fitBounds(L.latLngBounds(latlngs), { padding: [30, 30], maxZoom: 17 });
}

/* --- pages ---------------------------------------------------------------------------------------- */
const pages = {
  async login() {
    if (new URLSearchParams(location.search).get("expired"))
      $("login-form").before(el("p", { class: "banner", role: "status", id: "expired", text: t("Your session has expired; log in again.") }));
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const me = await api("/api/login", { method: "POST", body: { username: $("username").value, password: $("password").value } });
        window.location.assign(me.must_change_password ? "/password" : homeFor(me.role));
      } catch (e) { /* shown */ }
    });
  },

  async map() {
    const map = await makeMap("map");
    const data = await api("/api/cameras?limit=1000");
    const tracksBox = $("tracks");
    const points = [];
    async function showCamera(cam) {
      $("camera-title").textContent = cam.name + " (" + cam.id + ")" + (cam.group ? " · " + cam.group : "");
      tracksBox.replaceChildren(el("p", { class: "muted", text: t("Loading…") }));
      try {
        // the API lists tracks oldest first: ask for the count, then the last page
        const head = await api(withJust("/api/tracks", { camera: cam.id, limit: 1 }));
        const offset = Math.max(0, (head.total || 0) - 24);
        const page = await api(withJust("/api/tracks", { camera: cam.id, limit: 24, offset: offset }));
        const hits = page.items.slice().reverse();  // newest first
        fillGrid(tracksBox, hits);
      } catch (e) { tracksBox.replaceChildren(); }
    }
    const list = el("ul", { class: "camlist" });
    for (const cam of data.items) {
      const b = el("button", { type: "button", class: "link", text: cam.name + " (" + cam.id + ")" });
      b.addEventListener("click", () => showCamera(cam));
      list.append(el("li", {}, [b]));
      if (map && Number.isFinite(cam.lat) && Number.isFinite(cam.lon)) {
        const m = L.circleMarker([cam.lat, cam.lon], { radius: 8, color: "#0b5", weight: 2, fillOpacity: 0.7 }).addTo(map);
        m.bindTooltip(el("span", { text: cam.name + " (" + cam.id + ")" }));
        m.on("click", () => showCamera(cam));
        points.push([cam.lat, cam.lon]);
      }
    }
    $("map").after(list);
    fitTo(map, points);
  },

  async search() {
    const cameraNames = setupCameraPicker().catch(() => new Map());
    for (const sel of document.querySelectorAll("select.colour"))
      for (const c of VIGIE.colours) sel.append(el("option", { value: c, text: word(c) }));
    // Only the attributes this site lets investigators search by (the others are not reliable enough here).
    // Not awaited: the form's handlers must be in place before anyone can press Search.
    api("/api/search/vocabulary", { quiet: true }).then((words) => {
      for (const sel of document.querySelectorAll("select.attribute"))
        for (const a of words.attributes) sel.append(el("option", { value: a, text: attributeLabel(a) }));
      for (const v of words.vehicle_types) $("vehicle_type").append(el("option", { value: v, text: word(v) }));
    }, () => { /* quiet: a page-load helper never hides or replaces the error of what the person did */ });
    // Plain words: read on the server into filters, shown back and put into the form for the person to
    // check and correct; the search runs only when they press Search. Filters the form has no field for
    // (directions, communes, vehicle colours, second values) are kept from the text and listed above.
    let fromText = {};
    const FORM_LISTS = { classes: "class", upper: "upper", lower: "lower", with_attributes: "with", without_attributes: "without", vehicle_types: "vehicle_type" };
    $("read-text").addEventListener("click", async () => {
      const box = $("readback");
      box.replaceChildren();
      if (!$("text").value.trim()) return;
      try {
        const r = await api("/api/search/text", { method: "POST", body: { text: $("text").value } });
        const lines = r.readback.map((l) => el("li", { text: l }));
        box.append(el("ul", {}, lines));
        if (r.refused.length) box.append(el("p", { class: "error", text: r.refusal }));
        if (r.unknown.length) box.append(el("p", { class: "muted", text: t("Words not understood: {words}", { words: r.unknown.join(", ") }) }));
        if (r.hidden_attributes.length) box.append(el("p", { class: "muted", text: t("Not searchable on this site: {words}", { words: r.hidden_attributes.map(attributeLabel).join(", ") }) }));
        if (r.refused.length) { fromText = {}; return; }  // rephrase first: nothing about the person is searched
        fromText = r.filters;
        for (const [field, id] of Object.entries(FORM_LISTS)) $(id).value = (r.filters[field] || [""])[0];
        $("start").value = r.filters.start ? siteInputValue(r.filters.start) : "";
        $("end").value = r.filters.end ? siteInputValue(r.filters.end) : "";
        $("cameras").value = (r.filters.cameras || []).join(", ");
        $("groups").value = (r.filters.groups || []).join(", ");
      } catch (e) { fromText = {}; }
    });
    onSlow($("search-form"), "submit", async (ev) => {
      ev.preventDefault();
      const body = Object.assign({ limit: 100, sort: $("sort").value }, justification());
      // What the text gave that the form cannot show (a field the person changed is theirs).
      for (const field of ["directions", "communes", "body", "min_speed", "max_speed", "min_dwell"])
        if (fromText[field] !== undefined) body[field] = fromText[field];
      if ($("class").value) body.classes = [$("class").value];
      if ($("upper").value) body.upper = [$("upper").value];
      if ($("lower").value) body.lower = [$("lower").value];
      if ($("with").value) body.with_attributes = [$("with").value];
      if ($("without").value) body.without_attributes = [$("without").value];
      if ($("vehicle_type").value) body.vehicle_types = [$("vehicle_type").value];
      for (const [field, id] of Object.entries(FORM_LISTS))  // the text's second values, if its first is kept
        if (body[field] && fromText[field] && fromText[field][0] === body[field][0]) body[field] = fromText[field];
      if (splitList($("cameras").value).length) body.cameras = splitList($("cameras").value);
      if (splitList($("groups").value).length) body.groups = splitList($("groups").value);
      $("summary").textContent = t("Searching…");
      try {
        const start = await readSiteTime($("start"), "start"), end = await readSiteTime($("end"), "end");
        if (start) body.start = start;
        if (end) body.end = end;
        const r = await api("/api/search", { method: "POST", body });
        $("summary").textContent = t("{total} track(s) match; showing {shown}.", { total: r.total, shown: r.hits.length });
        $("places-read").textContent = placesRead(r.places, await cameraNames);
        fillGrid($("results"), r.hits);
      } catch (e) { $("summary").textContent = ""; $("results").replaceChildren(); }
    });
    // Search by example photo (investigators): the usual filters of the form above, the photo's person
    // ranked by appearance; what was read from the photo is shown (its blurred crop, colours, attributes).
    if ($("photo-form")) onSlow($("photo-form"), "submit", async (ev) => {
      ev.preventDefault();
      const file = $("photo").files[0];
      if (!file) { showError(t("Choose a photo first.")); return; }
      const query = { limit: 50 };
      if ($("class").value) query.classes = [$("class").value];
      try {
        const start = await readSiteTime($("start"), "start"), end = await readSiteTime($("end"), "end");
        if (start) query.start = start;
        if (end) query.end = end;
      } catch (e) { return; }
      if (splitList($("cameras").value).length) query.cameras = splitList($("cameras").value);
      if (splitList($("groups").value).length) query.groups = splitList($("groups").value);
      const form = new FormData();
      form.append("image", file);
      form.append("query", JSON.stringify(query));
      if ($("photo-box").value.trim()) form.append("box", $("photo-box").value.trim());
      form.append("match_colours", $("photo-colours").checked ? "true" : "false");
      for (const [k, v] of Object.entries(justification())) form.append(k, v);
      $("summary").textContent = t("Reading the photo…");
      $("photo-read").replaceChildren();
      try {
        const r = await api("/api/similar/photo", { method: "POST", body: form });
        const p = r.photo;
        const img = document.createElement("img");
        img.setAttribute("src", p.crop);
        img.setAttribute("alt", t("The person read from the photo (faces blurred)"));
        img.className = "photo-crop";
        const said = document.createElement("ul");
        const known = Object.entries(p.attributes).filter(([, v]) => v !== "unknown").map(([k, v]) => (v === "yes" ? attributeLabel(k) : t("no {attribute}", { attribute: attributeLabel(k) })));
        for (const line of [
          p.found_by === "detector" ? t("Person found by the detector") : p.found_by === "given" ? t("Person in the box given") : t("Person not found: the whole photo was used"),
          t("Upper colours: {upper}; lower: {lower}", { upper: p.upper.map(word).join(", ") || t("none named"), lower: p.lower.map(word).join(", ") || t("none named") }),
          t("Clothing and carried objects: {list}", { list: known.join(", ") || t("unknown") }),
          ...p.notes,
        ]) {
          const li = document.createElement("li");
          li.textContent = line;
          said.append(li);
        }
        $("photo-read").append(img, said);
        $("summary").textContent = t("{total} candidate(s), ranked by likeness to the photo ({method}).", { total: r.total, method: r.method });
        fillGrid($("results"), r.hits);
      } catch (e) { $("summary").textContent = ""; $("results").replaceChildren(); }
    });
  },

  async track() {
    const id = decodeURIComponent(location.pathname.split("/").pop());
    const enc = encodeURIComponent(id);
    let unblurred = false;  // true while an unblur grant of ours is open on this track
    // ?t=ISO (a click in a synopsis): the clip is loaded and shown at that moment
    const at = new URLSearchParams(location.search).get("t");
    let seekTo = null, seeked = !at;  // seconds into the clip; whether done (once per page)
    $("title").textContent = t("Track #{id}", { id: id });
    $("trail-link").setAttribute("href", "/trail/" + enc);
    onSlow($("similar"), "click", async () => {
      $("summary").textContent = t("Comparing…");
      try {
        const r = await api(withJust("/api/similar/" + enc, { limit: 50 }));
        $("summary").textContent = t("{total} candidate(s), ranked by appearance ({method}).", { total: r.total, method: r.method });
        fillGrid($("results"), r.hits);
      } catch (e) { $("summary").textContent = ""; }
    });
    function mediaUrl(kind) {
      return withJust("/api/tracks/" + enc + "/" + kind, unblurred ? { unblurred: "true" } : {});
    }
    let clipUrl = null;  // this play's URL: its token makes the player's range requests one audited play
    async function loadClip() {
      $("clip-status").textContent = t("Preparing the clip: it plays while it is being blurred.");
      try {
        // fmp4: fragments streamed while they are rendered and blurred, so the first picture comes within seconds
        // a moment to show (a click in the synopsis): the finished MP4, which the player can seek; otherwise the
        // stream, whose first picture comes within seconds but whose moments cannot be sought before they arrive
        const format = seekTo !== null && !seeked ? "mp4" : "fmp4";
        const p = await api("/api/tracks/" + enc + "/play", { method: "POST", body: Object.assign({ format: format, unblurred: unblurred }, justification()) });
        clipUrl = p.url;
      } catch (e) { $("clip-status").textContent = ""; return; }
      $("clip").setAttribute("src", clipUrl);
      $("clip").load();
    }
    $("clip").addEventListener("loadeddata", () => { $("clip-status").textContent = ""; });
    $("clip").addEventListener("loadedmetadata", () => {
      if (seeked || seekTo === null) return;
      seeked = true;
      const clip = $("clip");
      // a streamed clip's length is unknown until it ends (Infinity): the player waits for the moment to arrive
      const end = Number.isFinite(clip.duration) ? Math.max(0, clip.duration - 0.01) : Infinity;
      clip.currentTime = Math.min(Math.max(0, seekTo), end);
      clip.addEventListener("seeked", () => { $("clip-status").textContent = t("Shown at {time}, the moment clicked in the synopsis.", { time: siteTime(at, true) }); }, { once: true });
    });
    onSlow($("load-clip"), "click", loadClip);
    $("clip").addEventListener("error", () => {
      $("clip-status").textContent = "";
      // the video element hides the server's reason: ask again for the JSON error
      if (!clipUrl) return;
      fetch(clipUrl, { credentials: "same-origin", headers: { Range: "bytes=0-0" } }).then((r) => r.ok ? null : r.json()).then((d) => {
        if (d && d.error) showError(t("Clip: {error}", { error: d.error }));
      }).catch(() => {});
    });
    function showUnblurred(grant) {
      unblurred = Boolean(grant && grant.open !== false);
      const link = $("playback-link"), href = link.getAttribute("href");
      if (href && href !== "#") {
        const u = new URL(href, location.origin);
        if (unblurred) u.searchParams.set("unblurred_track", id); else u.searchParams.delete("unblurred_track");
        link.setAttribute("href", u.pathname + u.search);
      }
      const banner = $("unblurred-banner");
      banner.hidden = !unblurred;
      if (unblurred) banner.textContent = t("UNBLURRED view for case {case}, until {until}. Every look is recorded in the audit log.", { case: grant.case_ref || "", until: fmtTime(grant.expires_at) });
      $("thumb").setAttribute("src", mediaUrl("thumbnail"));
      $("thumb-caption").textContent = unblurred ? t("Best view, unblurred") : t("Best view, faces and plates blurred");
      $("clip-caption").firstChild.textContent = (unblurred ? t("Clip from the recording, unblurred.") : t("Clip from the recording, the track's box drawn, blurred.")) + " ";
      if ($("clip").getAttribute("src")) loadClip();
    }
    async function load() {
      const tr = await api(withJust("/api/tracks/" + enc, seeked ? {} : { points: "true" }));
      if (!seeked && tr.points && tr.points.length) seekTo = clipSeconds(tr.points, at);
      $("thumb").setAttribute("src", mediaUrl("thumbnail"));
      // the camera's recording around the track, on the playback page (unblurred there too under our grant)
      const around = new URLSearchParams({ camera: tr.camera_id, t: tr.first_seen });
      if (unblurred) around.set("unblurred_track", id);
      $("playback-link").setAttribute("href", "/playback?" + around.toString());
      $("attrs").replaceChildren(...trackAttributes(tr).map(([k, v]) => el("tr", {}, [el("th", { text: k }), el("td", { text: v })])));
    }
    const say = (text) => { $("case-msg").textContent = text; };
    onSlow($("export-form"), "submit", async (ev) => {
      ev.preventDefault();
      say(t("Preparing the export (the clip is rendered and blurred)…"));
      try {
        const got = await download("/api/exports", Object.assign({ track_ids: [Number(id)], unblurred: unblurred }, justification()), "vigie-export.zip");
        say(t("Exported {name} (SHA-256 {sha256}, recorded).", { name: got.name, sha256: got.sha256 }));
      } catch (e) { say(""); }
    });
    $("hold-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const j = justification();
        const r = await api("/api/holds", { method: "POST", body: { case_ref: j.case_ref || "", reason: $("hold-reason").value, track_ids: [Number(id)] } });
        say(t("Legal hold #{id} placed: this track is kept past retention until the hold is lifted.", { id: r.id }));
      } catch (e) { /* shown */ }
    });
    $("unblur-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const j = justification();
        const r = await api("/api/tracks/" + enc + "/unblur", { method: "POST", body: { case_ref: j.case_ref || "", purpose: j.purpose || "", reason: $("unblur-reason").value } });
        say(t("Unblur request #{id} sent: a supervisor must approve it. Reload this page once they have.", { id: r.request_id }));
      } catch (e) { /* shown */ }
    });
    for (const k of ["case_ref", "purpose"]) $(k).addEventListener("change", () => load().catch(() => {}));
    await load();
    // The clip route answers byte ranges, so the browser seeks in it (loadedmetadata above) as it streams.
    if (at && seekTo !== null) loadClip();
    if (VIGIE.me && VIGIE.me.role === "investigator") {
      const g = await api("/api/tracks/" + enc + "/unblur");
      if (g.open) showUnblurred(g);
      else if (g.pending) say(t("Unblur request #{id} waits for a supervisor's approval.", { id: g.request_id }));
    }
  },

  async trail() {
    const id = decodeURIComponent(location.pathname.split("/").pop());
    $("title").textContent = t("Trail of track #{id}", { id: id });
    $("back").setAttribute("href", "/track/" + encodeURIComponent(id));
    const map = await makeMap("map");
    let layer = null;
    async function draw() {
      const gj = await api(withJust("/api/trail/" + encodeURIComponent(id)));
      const sightings = gj.features.filter((f) => f.properties && f.properties.kind === "sighting");
      const line = gj.features.find((f) => f.properties && f.properties.kind === "trail");
      const list = $("sightings");
      list.replaceChildren(...sightings.map((f) => {
        const p = f.properties;
        return el("li", {}, [
          el("a", { href: "/track/" + encodeURIComponent(p.track_id), text: "#" + p.track_id }),
          el("span", { text: " " + (p.is_query ? t("{camera} · {time} · confidence {confidence} (query)", { camera: p.camera_id, time: fmtTime(p.first_seen), confidence: fmtNumber(p.confidence, 2) }) : t("{camera} · {time} · confidence {confidence}", { camera: p.camera_id, time: fmtTime(p.first_seen), confidence: fmtNumber(p.confidence, 2) })) }),
        ]);
      }));
      if (!map) return;
      if (layer) layer.remove();
      layer = L.layerGroup().addTo(map);
      const pts = [];
      if (line) L.polyline(line.geometry.coordinates.map((c) => [c[1], c[0]]), { color: "#d33", weight: 3 }).addTo(layer);
      for (const f of sightings) {
        const p = f.properties, c = f.geometry.coordinates, at = [c[1], c[0]];
        pts.push(at);
        const badge = el("span", { class: "badge" + (p.is_query ? " query" : ""), text: String(p.order) });
        L.marker(at, { icon: L.divIcon({ html: badge, className: "numbered", iconSize: [24, 24] }) })
          .bindTooltip(el("span", { text: p.order + ". #" + p.track_id + " " + p.camera_id + " " + fmtTime(p.first_seen) }), { permanent: false })
          .addTo(layer);
      }
      fitTo(map, pts);
    }
    onSlow($("reload"), "click", () => draw().catch(() => {}));
    await draw();
  },
};

document.addEventListener("DOMContentLoaded", async () => {
  const name = document.body.dataset.page;
  setupJustification();
  try {
    if (name !== "login") await setupNav();
    if (pages[name]) await pages[name]();
  } catch (e) {
    if (!(e instanceof ApiFailure)) showError(String(e && e.message ? e.message : e));
  }
  // The page's forms answer from here on: before, a submit would reload the page (what the browser tests wait for).
  document.body.dataset.ready = "true";
});

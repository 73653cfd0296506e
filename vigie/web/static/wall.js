/* Vigie: the live wall (issue 21). 1, 4 or 9 cameras' live pictures, chosen by name or by group, each with its
   latency (the picture's age when shown: now minus the time the server decoded its frame) and the alerts of
   its camera over it. Each camera's view is started (and audited) once with POST /api/live/{id}/view; its
   pictures come as a multipart JPEG stream, read here with fetch so that each picture's time is known. The
   stream also says when the camera is lost (its stream died; the server reconnects meanwhile) and when it is
   live again: a JSON part with X-Feed-State, shown on the tile.
   Data goes into the DOM with textContent only, as in app.js. */
"use strict";

const WALL = { alertShowMs: 30000, staleMs: 5000, rewatchMs: 5000 };
const tiles = new Map();  // camera id -> tile
let alertFeed = null;

function indexOfCrlf2(buf, from) {
  for (let i = from; i + 3 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  return -1;
}

function concat(a, b) { const out = new Uint8Array(a.length + b.length); out.set(a); out.set(b, a.length); return out; }

function makeTile(camera) {
  const canvas = el("canvas", { "data-camera": camera.id, role: "img", "aria-label": t("Live picture of camera {camera}", { camera: camera.id }) });
  const latency = el("span", { class: "latency", "data-latency-ms": "" });
  const alert = el("div", { class: "wall-alert", hidden: "" });
  const state = el("p", { class: "wall-state", role: "status", hidden: "" });
  const box = el("div", { class: "wall-tile", "data-camera": camera.id, "data-state": "starting" }, [canvas, el("span", { class: "name", text: camera.name || camera.id }), latency, state, alert]);
  return { camera, canvas, latency, alert, state, box, abort: null, lastShown: 0, alertTimer: null, drawing: false };
}

/* The feed's state, as the server tells it: "lost" (shown over the last picture) or "live" again. */
function showState(tile, state) {
  tile.box.dataset.state = state;
  tile.state.hidden = state !== "lost";
  tile.state.textContent = state === "lost" ? t("Camera lost: reconnecting…") : "";
}

/* Drawn on a canvas (decoded with createImageBitmap): no object URL, so the pages' image policy stays 'self'. */
async function showPicture(tile, jpeg, capturedIso) {
  if (tile.drawing) return;  // the previous picture is still being decoded: this one is skipped, the wall stays live
  tile.drawing = true;
  try {
    const bitmap = await createImageBitmap(new Blob([jpeg], { type: "image/jpeg" }));
    if (tile.canvas.width !== bitmap.width) tile.canvas.width = bitmap.width;
    if (tile.canvas.height !== bitmap.height) tile.canvas.height = bitmap.height;
    tile.canvas.getContext("2d").drawImage(bitmap, 0, 0);
    bitmap.close();
    const ms = Date.now() - isoMs(capturedIso);
    tile.lastShown = Date.now();
    tile.latency.dataset.latencyMs = String(ms);
    tile.latency.textContent = t("Latency {seconds} s", { seconds: fmtNumber(ms / 1000, 1) });
  } finally { tile.drawing = false; }
}

async function watch(tile) {
  const view = await api(withJust("/api/live/" + encodeURIComponent(tile.camera.id) + "/view"), { method: "POST" });
  tile.abort = new AbortController();
  const res = await fetch(view.url, { credentials: "same-origin", signal: tile.abort.signal });
  if (!res.ok) {
    let message = t("The camera cannot be shown (HTTP {status}).", { status: res.status });
    try { message = (await res.json()).error || message; } catch (e) { /* not JSON */ }
    tile.latency.textContent = message;
    return;
  }
  const reader = res.body.getReader();
  const text = new TextDecoder();
  let buf = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf = concat(buf, value);
    for (;;) {
      const end = indexOfCrlf2(buf, 0);
      if (end < 0) break;
      const head = text.decode(buf.subarray(0, end));
      const length = Number((/Content-Length:\s*(\d+)/i.exec(head) || [])[1]);
      const start = end + 4;
      if (!Number.isFinite(length) || buf.length < start + length + 2) break;
      const state = (/X-Feed-State:\s*(\S+)/i.exec(head) || [])[1];
      const captured = (/X-Frame-Time:\s*(\S+)/i.exec(head) || [])[1];
      if (state) showState(tile, state);
      else showPicture(tile, buf.slice(start, start + length), captured);
      buf = buf.slice(start + length + 2);
    }
  }
  tile.latency.textContent = t("The camera's stream ended.");
  showState(tile, "lost");
  // still on the wall: watched again (a new view) after a pause
  setTimeout(() => { if (tiles.get(tile.camera.id) === tile && !tile.abort.signal.aborted) watch(tile).catch(() => {}); }, WALL.rewatchMs);
}

function showAlert(a) {
  const tile = tiles.get(a.camera_id);
  if (!tile) return;
  tile.alert.hidden = false;
  tile.alert.dataset.alert = String(a.id);
  tile.alert.textContent = t("Alert #{id}: {rule} at {time}", { id: a.id, rule: a.rule || alertKind(a.kind), time: fmtTime(a.start) });
  clearTimeout(tile.alertTimer);
  tile.alertTimer = setTimeout(() => { tile.alert.hidden = true; }, WALL.alertShowMs);
}

async function followAlerts() {
  if (alertFeed) alertFeed.close();
  const newest = await api(withJust("/api/alerts", { limit: 1 }), { quiet: true }).catch(() => null);
  const after = newest && newest.items.length ? newest.items[0].id : 0;
  alertFeed = new EventSource(withJust("/api/alerts/stream", { after: after }));
  alertFeed.addEventListener("alert", (ev) => { try { showAlert(JSON.parse(ev.data)); } catch (e) { /* not an alert */ } });
}

pages.wall = async function () {
  const params = new URLSearchParams(location.search);
  const live = await api("/api/live/cameras");
  $("wall-blur").textContent = live.blurred ? t("Live pictures, privacy masks burned in, faces blurred (site setting).") : t("Live pictures, privacy masks burned in. Faces are not blurred on the wall (site setting): every view is recorded in the audit log.");
  const wanted = idList(params.get("cameras") || "");
  const groups = [...new Set(live.items.map((c) => c.group).filter(Boolean))].sort();
  for (const g of groups) $("group").append(el("option", { value: g, text: g }));
  for (const c of live.items) {
    const input = el("input", { type: "checkbox", value: c.id });
    input.checked = wanted.includes(c.id);
    $("cameras").append(el("label", {}, [input, c.name ? t("{name} ({id})", { name: c.name, id: c.id }) : c.id]));
  }
  if (params.get("n")) $("layout").value = params.get("n");
  if (params.get("group")) $("group").value = params.get("group");
  async function show() {
    const n = Number($("layout").value);
    const group = $("group").value;
    let chosen = group ? live.items.filter((c) => c.group === group) : live.items.filter((c) => $("cameras").querySelector('input[value="' + CSS.escape(c.id) + '"]').checked);
    if (!chosen.length) { showError(t("Choose a group, or at least one camera.")); return; }
    showError("");
    chosen = chosen.slice(0, n);
    for (const tile of tiles.values()) if (tile.abort) tile.abort.abort();
    tiles.clear();
    $("wall").className = "wall n" + n;
    $("wall").replaceChildren();
    for (const c of chosen) {
      const tile = makeTile(c);
      tiles.set(c.id, tile);
      $("wall").append(tile.box);
      watch(tile).catch((e) => { if (!(e instanceof ApiFailure) && e.name !== "AbortError") tile.latency.textContent = String(e.message || e); });
    }
    await followAlerts();
  }
  $("wall-form").addEventListener("submit", (ev) => { ev.preventDefault(); show().catch(() => {}); });
  // a picture older than staleMs: the camera is silent, said so on its tile
  setInterval(() => {
    for (const tile of tiles.values()) if (tile.lastShown && Date.now() - tile.lastShown > WALL.staleMs && tile.box.dataset.state !== "lost") tile.latency.textContent = t("No picture for {seconds} s", { seconds: Math.round((Date.now() - tile.lastShown) / 1000) });
  }, 1000);
  if (wanted.length || params.get("group")) await show();
};

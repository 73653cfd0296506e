/* Vigie: the playback page (issue 21). One or several cameras' recordings from a moment, in step, each with
   a timeline of its footage, gaps, tracks and alerts. Each camera's play is started (and audited) once with
   POST /api/cameras/{id}/playback; its stream, fragmented MP4 sent while the server renders it, is fed to
   the browser's Media Source Extensions; seeking asks the same play's URL from another moment.
   One clock drives every camera: it waits for the slowest, so the pictures stay in step.
   Data goes into the DOM with textContent only, as in app.js. */
"use strict";

const PLAYBACK = {
  codec: 'video/mp4; codecs="avc1.640028"',  // H.264 High (the server's x264); the browser reads the real profile from the stream
  driftS: 0.35,     // a camera further than this from the clock is moved to it
  tickMs: 200,
  keepS: 30,        // seconds of played video kept in the browser's buffer
};

const clock = { atMs: null, wall: 0, playing: true, from: 0, to: 0 };
const views = [];

// Notes compared with the one shown: the same t() call each time, in the page's language.
const LOADING = () => t("Loading…");
const NO_RECORDING = () => t("No recording at this moment.");

function clockNow() { return clock.atMs + (clock.playing ? performance.now() - clock.wall : 0); }
function setClock(ms) { clock.atMs = ms; clock.wall = performance.now(); }
function isoOf(ms) { return new Date(ms).toISOString(); }

class PlaybackFailure extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/* --- one camera: its play, its player, its timeline ------------------------------------------ */
function makeView(camera) {
  const video = el("video", { muted: "", playsinline: "", "data-camera": camera.id });
  video.muted = true;
  const note = el("p", { class: "view-note" });
  const line = el("div", { class: "timeline", title: t("Click to go to this moment") });
  const cursor = el("div", { class: "cursor" });
  const box = el("section", { class: "playback-view", "data-camera": camera.id }, [
    el("h2", {}, [camera.name ? t("{name} ({id})", { name: camera.name, id: camera.id }) : camera.id]), video, line, note,
  ]);
  const view = { camera, video, note, line, cursor, box, url: null, startMs: null, loading: null, token: 0, spans: [], ended: false };
  line.addEventListener("click", (ev) => {
    if (ev.target !== line && !ev.target.classList.contains("tl-footage") && !ev.target.classList.contains("tl-gap")) return;
    const r = line.getBoundingClientRect();
    seekAll(clock.from + (clock.to - clock.from) * Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)));
  });
  video.addEventListener("ended", () => { view.ended = true; view.startMs = null; view.note.textContent = t("The recording stops here (a gap)."); });
  return view;
}

function pct(ms) { return (100 * (ms - clock.from) / (clock.to - clock.from)).toFixed(3) + "%"; }

function drawTimeline(view, tl) {
  const line = view.line;
  line.replaceChildren();
  view.spans = tl.footage.map((f) => [isoMs(f.start), isoMs(f.end)]);
  const place = (node, a, b) => { node.style.left = pct(a); if (b !== undefined) node.style.width = "calc(" + pct(b) + " - " + pct(a) + ")"; line.append(node); };
  for (const f of tl.footage) place(el("div", { class: "tl-footage" }), isoMs(f.start), isoMs(f.end));
  for (const g of tl.gaps) place(el("div", { class: "tl-gap", title: t("No recording") }), isoMs(g.start), isoMs(g.end));
  for (const tr of tl.tracks) {
    const a = Math.max(clock.from, isoMs(tr.first_seen)), b = Math.min(clock.to, isoMs(tr.last_seen));
    const node = el("div", { class: "tl-track", "data-track": String(tr.id), title: t("Track #{id} {class}, {time}", { id: tr.id, class: word(tr.class), time: fmtTime(tr.first_seen) }) });
    node.addEventListener("click", (ev) => { ev.stopPropagation(); seekAll(isoMs(tr.first_seen)); });
    place(node, a, Math.max(b, a + 1));
  }
  for (const a of tl.alerts) {
    const node = el("div", { class: "tl-alert", "data-alert": String(a.id), title: a.rule ? t("Alert #{id} {rule}, {time}", { id: a.id, rule: a.rule, time: fmtTime(a.start) }) : t("Alert #{id}, {time}", { id: a.id, time: fmtTime(a.start) }) });
    node.addEventListener("click", (ev) => { ev.stopPropagation(); seekAll(isoMs(a.start)); });
    place(node, Math.max(clock.from, isoMs(a.start)));
  }
  line.append(view.cursor);
}

function hasFootage(view, ms) { return view.spans.some(([a, b]) => a <= ms + 500 && ms < b); }

function appendTo(sb, data) {
  return new Promise((ok, bad) => {
    sb.addEventListener("updateend", ok, { once: true });
    sb.addEventListener("error", () => bad(new Error(t("the browser refused a piece of the video"))), { once: true });
    sb.appendBuffer(data);
  });
}

function trimmed(sb, video) {
  if (!sb.buffered.length || video.currentTime - sb.buffered.start(0) < PLAYBACK.keepS) return Promise.resolve();
  return new Promise((ok) => { sb.addEventListener("updateend", ok, { once: true }); sb.remove(0, video.currentTime - PLAYBACK.keepS / 2); });
}

/* Load the camera's stream from `ms`: a new MediaSource, fed as the fragments arrive. */
async function loadView(view, ms) {
  const token = ++view.token;
  if (view.loading) view.loading.abort();
  const abort = new AbortController();
  view.loading = abort;
  view.startMs = null;
  view.ended = false;
  view.note.textContent = LOADING();
  const source = new MediaSource();
  view.video.src = URL.createObjectURL(source);
  await new Promise((ok) => source.addEventListener("sourceopen", ok, { once: true }));
  const url = view.url.replace(/([?&]from=)[^&]*/, "$1" + encodeURIComponent(isoOf(ms)));
  let res;
  try {
    res = await fetch(url, { credentials: "same-origin", signal: abort.signal });
  } catch (e) { return; }  // superseded by another seek
  if (token !== view.token) return;
  if (!res.ok) {
    let message = t("The recording cannot be played (HTTP {status}).", { status: res.status });
    try { message = (await res.json()).error || message; } catch (e) { /* not JSON */ }
    view.note.textContent = res.status === 404 ? NO_RECORDING() : message;
    if (res.status !== 404) showError(t("Camera {camera}: {message}", { camera: view.camera.id, message: message }));
    return;
  }
  view.startMs = isoMs(res.headers.get("X-Playback-Start"));
  const sb = source.addSourceBuffer(PLAYBACK.codec);
  const reader = res.body.getReader();
  // time to first frame, from the click (the play's start, or a seek) to the first picture presented
  const clicked = clock.clickedAt;
  view.video.requestVideoFrameCallback(() => {
    if (token === view.token) view.video.dataset.firstFrameMs = String(Math.round(performance.now() - clicked));
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (token !== view.token) { reader.cancel(); return; }
      if (done) break;
      await trimmed(sb, view.video);
      await appendTo(sb, value);
      if (view.note.textContent === LOADING()) view.note.textContent = "";
    }
    if (source.readyState === "open") source.endOfStream();
  } catch (e) {
    if (token === view.token && !abort.signal.aborted) view.note.textContent = t("The stream stopped: {reason}", { reason: e.message });
  }
}

function seekAll(ms, clicked) {
  clock.clickedAt = clicked || performance.now();
  ms = Math.min(Math.max(ms, clock.from), clock.to);
  setClock(ms);
  for (const v of views) {
    if (hasFootage(v, ms)) loadView(v, ms);
    else { v.token++; if (v.loading) v.loading.abort(); v.startMs = null; v.video.removeAttribute("src"); v.video.load(); v.note.textContent = NO_RECORDING(); }
  }
}

/* The clock moves on while every camera that has footage now has its picture; it waits for the slowest. */
function tick() {
  if (clock.atMs === null) return;
  const now = clockNow();
  let waiting = false;
  for (const v of views) {
    v.cursor.style.left = pct(now);
    if (v.startMs === null) {
      // a camera in a gap comes back when the clock reaches its next footage
      if (!v.ended && v.note.textContent === NO_RECORDING() && hasFootage(v, now)) loadView(v, now);
      else if (v.ended && hasFootage(v, now + 1000)) { v.ended = false; loadView(v, now); }
      continue;
    }
    const target = (now - v.startMs) / 1000, video = v.video, b = video.buffered;
    const have = b.length && target >= b.start(0) - 0.05 && target <= b.end(b.length - 1);
    if (!have) { if (target > 0) waiting = true; continue; }
    if (Math.abs(video.currentTime - target) > PLAYBACK.driftS) video.currentTime = Math.max(0, target);
    if (clock.playing && video.paused) video.play().catch(() => {});
    if (!clock.playing && !video.paused) video.pause();
  }
  if (waiting && clock.playing) setClock(now);  // hold the clock here until they have caught up
  $("status").textContent = waiting ? t("Waiting for the pictures…") : "";
  $("clock").textContent = siteTime(isoOf(now), true);
}

pages.playback = async function () {
  const params = new URLSearchParams(location.search);
  const wanted = idList(params.get("camera") || "");
  const grantTrack = Number(params.get("unblurred_track")) || null;
  const cams = (await api("/api/cameras?limit=1000")).items;
  const box = $("cameras");
  for (const c of cams) {
    const input = el("input", { type: "checkbox", value: c.id });
    input.checked = wanted.length ? wanted.includes(c.id) : false;
    box.append(el("label", {}, [input, c.name ? t("{name} ({id})", { name: c.name, id: c.id }) : c.id]));
  }
  const at = params.get("t") ? new Date(isoMs(params.get("t")) - 10000) : new Date(Date.now() - 3600 * 1000);
  $("from").value = siteInputValue(at.toISOString());
  $("toggle").addEventListener("click", () => {
    if (clock.atMs === null) return;
    setClock(clockNow());
    clock.playing = !clock.playing;
    $("toggle").textContent = clock.playing ? t("Pause") : t("Play");
  });
  $("playback-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    start().catch((e) => { if (!(e instanceof ApiFailure)) showError(String(e && e.message ? e.message : e)); });
  });
  async function start() {
    const clicked = performance.now();
    const chosen = [...box.querySelectorAll("input:checked")].map((i) => cams.find((c) => c.id === i.value));
    if (!chosen.length) { showError(t("Choose at least one camera.")); return; }
    showError("");
    const fromIso = await readSiteTime($("from"), "start");
    if (!fromIso) { showError(t("Give the moment to play from.")); return; }
    const from = isoMs(fromIso);
    const at0 = params.get("t") && !clock.started ? isoMs(params.get("t")) : from;
    clock.started = true;
    clock.from = from;
    clock.to = from + 1000 * Number($("span").value);
    for (const v of views) { v.token++; if (v.loading) v.loading.abort(); }
    views.length = 0;
    $("views").replaceChildren();
    for (const c of chosen) {
      const view = makeView(c);
      const q = "?from=" + encodeURIComponent(isoOf(clock.from)) + "&to=" + encodeURIComponent(isoOf(clock.to));
      const tl = await api(withJust("/api/cameras/" + encodeURIComponent(c.id) + "/timeline" + q));
      // ?unblurred_track=ID (from a track page under an open unblur grant): unblurred, over that track's time
      const body = grantTrack ? { from: isoOf(at0), unblurred: true, track_id: grantTrack } : Object.assign({ from: isoOf(at0) }, justification());
      const play = await api("/api/cameras/" + encodeURIComponent(c.id) + "/playback", { method: "POST", body: body });
      view.url = play.url;
      drawTimeline(view, tl);
      views.push(view);
      $("views").append(view.box);
    }
    $("player").hidden = false;
    $("unblurred-banner").hidden = !grantTrack;
    if (grantTrack) $("unblurred-banner").textContent = t("UNBLURRED view under your grant on track #{track}, over that track's time only. Every look is recorded in the audit log.", { track: grantTrack });
    clock.playing = true;
    $("toggle").textContent = t("Pause");
    seekAll(at0, clicked);
  }
  setInterval(tick, PLAYBACK.tickMs);
  if (wanted.length && params.get("t")) $("playback-form").requestSubmit();
};

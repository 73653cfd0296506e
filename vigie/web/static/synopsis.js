/* Vigie: the synopsis page. Build a camera's period as one short video (in the background on the server),
   follow its progress, play it; a click on an object opens its track at the moment the synopsis shows.
   Data goes into the DOM with textContent only, as in app.js. */
"use strict";

const SYNOPSIS = {
  controlsPx: 40,  // the player's own control bar, at the bottom of the video: clicks there are its own
  hint: "Pause on a moment, then click on an object to open its track at its original time.",
};

/* A datetime-local value, meant as UTC, as ISO 8601 with Z (null when empty). */
function utcInput(value) {
  if (!value) return null;
  return (value.length === 16 ? value + ":00" : value) + "Z";
}

function utcInputValue(date) { return date.toISOString().slice(0, 19); }

function utcText(iso) { return iso ? String(iso).slice(0, 19).replace("T", " ") + " UTC" : ""; }

function clockText(iso) { return iso ? String(iso).slice(11, 19) : ""; }

/* The time of day in the time zone the synopsis' labels are written in (the site's), and in UTC. */
function labelClock(iso, zone) {
  if (!zone || zone === "UTC") return clockText(iso) + " UTC";
  try {
    return new Date(isoMs(iso)).toLocaleTimeString("en-GB", { timeZone: zone, hour12: false }) + " " + zone + " (" + clockText(iso) + " UTC)";
  } catch (e) { return clockText(iso) + " UTC"; }
}

/* Where a mouse event falls on the picture, in the index's pixels; null outside the picture (the video is
   drawn with object-fit: contain, so a picture of another shape than the element has bands beside it) and
   over the control bar. */
function synopsisPoint(video, index, ev) {
  const vw = video.videoWidth, vh = video.videoHeight;
  if (!vw || !vh) return null;
  const rect = video.getBoundingClientRect();
  const cw = video.clientWidth, ch = video.clientHeight;
  const ex = ev.clientX - rect.left - video.clientLeft, ey = ev.clientY - rect.top - video.clientTop;
  if (video.controls && ey > ch - SYNOPSIS.controlsPx) return null;
  const scale = Math.min(cw / vw, ch / vh);
  const x = (ex - (cw - vw * scale) / 2) / scale, y = (ey - (ch - vh * scale) / 2) / scale;
  if (x < 0 || y < 0 || x >= vw || y >= vh) return null;
  return { x: x * index.width / vw, y: y * index.height / vh };
}

/* The synopsis frame on screen: frame j is shown from j / fps on. */
function synopsisFrame(video, index) {
  return Math.min(index.frames - 1, Math.max(0, Math.floor(video.currentTime * index.fps + 1e-6)));
}

/* The indexed object of that frame whose box holds the point; the smallest if several do (the one in front
   is usually the nearer, smaller box inside a larger one's). */
function synopsisObjectAt(index, frame, p) {
  let best = null, bestArea = Infinity;
  for (const o of index.frame_objects[frame] || []) {
    const [x1, y1, x2, y2] = o.box;
    if (p.x >= x1 && p.x <= x2 && p.y >= y1 && p.y <= y2) {
      const area = (x2 - x1) * (y2 - y1);
      if (area < bestArea) { best = o; bestArea = area; }
    }
  }
  return best;
}

function trackAt(trackId, iso) { return "/track/" + encodeURIComponent(trackId) + "?t=" + encodeURIComponent(iso); }

pages.synopsis = async function () {
  for (const sel of document.querySelectorAll("select.colour"))
    for (const c of VIGIE.colours) sel.append(el("option", { value: c, text: c }));
  const cams = await api("/api/cameras?limit=1000");
  for (const c of cams.items) $("camera").append(el("option", { value: c.id, text: c.name + " (" + c.id + ")" }));
  const now = new Date();
  $("to").value = utcInputValue(now);
  $("from").value = utcInputValue(new Date(now.getTime() - 3600 * 1000));

  const video = $("synopsis-video");
  let index = null;  // the index of the synopsis on show
  let classes = new Map();  // track -> class
  let following = 0;  // which follow() is current (a newer one stops the older)

  function pick(ev) {
    if (!index) return null;
    const p = synopsisPoint(video, index, ev);
    return p ? synopsisObjectAt(index, synopsisFrame(video, index), p) : null;
  }
  video.addEventListener("mousemove", (ev) => {
    const hit = pick(ev);
    video.classList.toggle("over", Boolean(hit));
    $("hint").textContent = hit ? "#" + hit.track + " " + (classes.get(hit.track) || "") + " at " + labelClock(hit.time, index.label_timezone) + ": click to open its track" : SYNOPSIS.hint;
  });
  video.addEventListener("mouseleave", () => { video.classList.remove("over"); $("hint").textContent = SYNOPSIS.hint; });
  video.addEventListener("click", (ev) => {
    const hit = pick(ev);
    if (!hit) return;
    ev.preventDefault();
    video.pause();
    window.location.assign(trackAt(hit.track, hit.time));
  });

  // The keyboard's way to pick an object: whenever the video stops on a frame, its objects are listed as
  // links to their tracks at that moment (what a click on them in the picture opens).
  function listOnScreen() {
    if (!index) return;
    const here = index.frame_objects[synopsisFrame(video, index)] || [];
    $("on-screen").replaceChildren(...here.map((o) => el("li", {}, [el("a", {
      href: trackAt(o.track, o.time),
      text: t("Track #{track} ({kind}) at {time}: open its track", { track: o.track, kind: classes.get(o.track) || "", time: labelClock(o.time, index.label_timezone) }),
    })])));
    $("on-screen-none").textContent = here.length ? "" : (video.paused ? t("No object on this frame.") : t("Pause the video to list the objects it shows."));
  }
  video.addEventListener("pause", listOnScreen);
  video.addEventListener("seeked", listOnScreen);

  async function play(s) {
    const enc = encodeURIComponent(s.id);
    index = await api(withJust("/api/synopses/" + enc + "/index"));
    classes = new Map(index.objects.map((o) => [o.track, o.class]));
    $("player-title").textContent = "Synopsis of " + s.camera + ", " + utcText(s.from) + " to " + utcText(s.to);
    const r = s.report || {};
    $("figures").textContent = index.objects.length + " object(s) from " + (Number(r.source_s || 0) / 60).toFixed(1) + " min of video in "
      + (index.frames / index.fps).toFixed(1) + " s; overlap " + (100 * Number(r.collision_fraction || 0)).toFixed(1) + "% of object area.";
    const zone = index.label_timezone || "UTC";
    const head = el("tr", {}, ["Track", "Class", "Original time (" + zone + ")", "In the synopsis"].map((h) => el("th", { text: h })));
    const clock = (iso) => (zone === "UTC" ? clockText(iso) : labelClock(iso, zone).split(" ")[0]);
    $("objects").replaceChildren(head, ...index.objects.map((o) => {
      const show = el("button", { type: "button", class: "link", text: "show at " + (o.synopsis_start / index.fps).toFixed(1) + " s" });
      show.addEventListener("click", () => { video.pause(); video.currentTime = (o.synopsis_start + 0.5) / index.fps; });
      return el("tr", { "data-track": String(o.track) }, [
        el("td", {}, [el("a", { href: trackAt(o.track, o.original_start), text: "#" + o.track })]),
        el("td", { text: o.class }),
        el("td", { text: clock(o.original_start) + " – " + clock(o.original_end) }),
        el("td", {}, [show]),
      ]);
    }));
    // a play: audited once, its token in the URL makes the player's range requests part of it
    const started = await api("/api/synopses/" + enc + "/play", { method: "POST", body: justification() });
    video.setAttribute("src", started.url);
    video.load();
    $("player").hidden = false;
  }

  async function follow(id) {
    const mine = ++following;
    index = null;
    $("player").hidden = true;
    video.removeAttribute("src");
    $("progress-box").hidden = false;
    $("progress").value = 0;
    $("status").textContent = "";
    history.replaceState(null, "", "/synopsis?id=" + encodeURIComponent(id));
    while (mine === following) {
      let s;
      try { s = await api("/api/synopses/" + encodeURIComponent(id)); } catch (e) { return; }
      if (mine !== following) return;
      $("progress").value = s.progress || 0;
      if (s.status === "failed") {
        $("status").textContent = "Failed.";
        await listMine().catch(() => {});
        showError(s.error || "the synopsis could not be built");
        return;
      }
      if (s.status === "ready") {
        $("status").textContent = "Ready.";
        await listMine().catch(() => {});
        await play(s);
        return;
      }
      $("status").textContent = s.status === "queued" ? "Queued: another synopsis is being built first…"
        : "Building… " + Math.round(100 * (s.progress || 0)) + "%";
      if (s.remaining_s) $("status").textContent = t("Building… {percent}% done, about {time} left", { percent: Math.round(100 * (s.progress || 0)), time: durationText(s.remaining_s) });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function listMine() {
    const r = await api("/api/synopses?limit=20");
    $("mine-none").hidden = r.items.length > 0;
    const head = el("tr", {}, ["Asked (UTC)", "Camera", "Period (UTC)", "Filters", "Status", ""].map((h) => el("th", { text: h })));
    $("mine").replaceChildren(...(r.items.length ? [head] : []), ...r.items.map((s) => {
      const open = el("button", { type: "button", class: "link", text: "open" });
      open.addEventListener("click", () => follow(s.id).catch(() => {}));
      const filters = Object.entries(s.filters || {}).map(([k, v]) => k + ": " + (Array.isArray(v) ? v.join(", ") : JSON.stringify(v))).join("; ");
      const status = s.status === "building" ? "building " + Math.round(100 * (s.progress || 0)) + "%" : s.status;
      return el("tr", { "data-synopsis": s.id }, [
        el("td", { text: utcText(s.created_at) }), el("td", { text: s.camera }),
        el("td", { text: utcText(s.from) + " – " + utcText(s.to) }), el("td", { class: "wrap", text: filters || "-" }),
        el("td", { text: status, title: s.error || "" }), el("td", {}, [open]),
      ]);
    }));
  }

  onSlow($("synopsis-form"), "submit", async (ev) => {
    ev.preventDefault();
    const filters = {};
    if ($("class").value) filters.classes = [$("class").value];
    if ($("upper").value) filters.upper = [$("upper").value];
    if ($("lower").value) filters.lower = [$("lower").value];
    if ($("direction").value) filters.directions = [$("direction").value];
    const body = Object.assign({ camera: $("camera").value, from: utcInput($("from").value), to: utcInput($("to").value), filters: filters }, justification());
    if ($("length").value) body.length_s = Number($("length").value);
    try {
      const r = await api("/api/synopses", { method: "POST", body: body });
      listMine().catch(() => {});
      await follow(r.id);
    } catch (e) { /* shown */ }
  });

  await listMine();
  const wanted = new URLSearchParams(location.search).get("id");
  if (wanted) await follow(wanted);
};

/* Vigie: the synopsis page. Build a camera's period as one short video (in the background on the server),
   follow its progress, play it; a click on an object opens its track at the moment the synopsis shows.
   Data goes into the DOM with textContent only, as in app.js. */
"use strict";

const SYNOPSIS = {
  controlsPx: 40,  // the player's own control bar, at the bottom of the video: clicks there are its own
  hint: t("Pause on a moment, then click on an object to open its track at its original time."),
};

/* Times on the site's clock, labelled (static/clock.js). */
function utcText(iso) { return siteTime(iso); }


/* The time of day on the site's clock, as the synopsis' labels are written (the site's zone), labelled. */
function labelClock(iso) { return t("{time} ({zone})", { time: siteClock(iso, true), zone: siteZoneLabel() }); }

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
    for (const c of VIGIE.colours) sel.append(el("option", { value: c, text: word(c) }));
  const cams = await api("/api/cameras?limit=1000");
  for (const c of cams.items) $("camera").append(el("option", { value: c.id, text: t("{name} ({id})", { name: c.name, id: c.id }) }));
  // The last hour on the site's clock, as a person would type it (read back by the server in the site's zone).
  const now = new Date();
  $("to").value = siteInputValue(now.toISOString());
  $("from").value = siteInputValue(new Date(now.getTime() - 3600 * 1000).toISOString());

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
    $("hint").textContent = hit ? t("#{track} {class} at {time}: click to open its track", { track: hit.track, class: word(classes.get(hit.track) || ""), time: labelClock(hit.time) }) : SYNOPSIS.hint;
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
    $("player-title").textContent = t("Synopsis of {camera}, {from} to {to}", { camera: s.camera, from: utcText(s.from), to: utcText(s.to) });
    const r = s.report || {};
    $("figures").textContent = t("{objects} object(s) from {minutes} min of video in {seconds} s; overlap {overlap}% of object area.", { objects: index.objects.length, minutes: fmtNumber(Number(r.source_s || 0) / 60, 1), seconds: fmtNumber(index.frames / index.fps, 1), overlap: fmtNumber(100 * Number(r.collision_fraction || 0), 1) });
    const head = el("tr", {}, [t("Track"), t("Class"), t("Original time ({zone})", { zone: siteZoneLabel() }), t("In the synopsis")].map((h) => el("th", { text: h })));
    const clock = (iso) => siteClock(iso, true);
    $("objects").replaceChildren(head, ...index.objects.map((o) => {
      const show = el("button", { type: "button", class: "link", text: t("show at {seconds} s", { seconds: fmtNumber(o.synopsis_start / index.fps, 1) }) });
      show.addEventListener("click", () => { video.pause(); video.currentTime = (o.synopsis_start + 0.5) / index.fps; });
      return el("tr", { "data-track": String(o.track) }, [
        el("td", {}, [el("a", { href: trackAt(o.track, o.original_start), text: "#" + o.track })]),
        el("td", { text: word(o.class) }),
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
        $("status").textContent = t("Failed.");
        await listMine().catch(() => {});
        showError(s.error || t("The synopsis could not be built."));
        return;
      }
      if (s.status === "ready") {
        $("status").textContent = t("Ready.");
        await listMine().catch(() => {});
        await play(s);
        return;
      }
      $("status").textContent = s.status === "queued" ? t("Queued: another synopsis is being built first…")
        : t("Building… {percent}%", { percent: Math.round(100 * (s.progress || 0)) });
      if (s.remaining_s) $("status").textContent = t("Building… {percent}% done, about {time} left", { percent: Math.round(100 * (s.progress || 0)), time: durationText(s.remaining_s) });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function listMine() {
    const r = await api("/api/synopses?limit=20");
    $("mine-none").hidden = r.items.length > 0;
    const head = el("tr", {}, [t("Asked"), t("Camera"), t("Period"), t("Filters"), t("Status"), ""].map((h) => el("th", { text: h })));
    $("mine").replaceChildren(...(r.items.length ? [head] : []), ...r.items.map((s) => {
      const open = el("button", { type: "button", class: "link", text: t("open") });
      open.addEventListener("click", () => follow(s.id).catch(() => {}));
      const filters = Object.entries(s.filters || {}).map(([k, v]) => k + ": " + (Array.isArray(v) ? v.join(", ") : JSON.stringify(v))).join("; ");
      const status = s.status === "building" ? t("building {percent}%", { percent: Math.round(100 * (s.progress || 0)) }) : ({ queued: t("queued"), ready: t("ready"), failed: t("failed") }[s.status] || s.status);
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
    try {
      const from = await readSiteTime($("from"), "start"), to = await readSiteTime($("to"), "end");
      const body = Object.assign({ camera: $("camera").value, from: from, to: to, filters: filters }, justification());
      if ($("length").value) body.length_s = Number($("length").value);
      const r = await api("/api/synopses", { method: "POST", body: body });
      listMine().catch(() => {});
      await follow(r.id);
    } catch (e) { /* shown */ }
  });

  await listMine();
  const wanted = new URLSearchParams(location.search).get("id");
  if (wanted) await follow(wanted);
};

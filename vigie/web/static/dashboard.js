/* Vigie: the dashboard. A camera's tracks per hour, its counting lines drawn over its view with their counts,
   heat maps and stream gaps, over a period chosen in the page; it opens on the camera with the most tracks in
   the period, and says so when there is nothing to show. Data goes in with textContent only. */
"use strict";

function svg(tag, attrs) {
  const node = document.createElementNS($("lines-over").namespaceURI, tag);  // the page's own <svg>: its namespace
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

/* The counting lines over the camera's view, in the picture's own pixels (the heat map is that picture). */
function drawLines(frame, lines) {
  const over = $("lines-over");
  const [w, h] = frame;
  over.setAttribute("viewBox", "0 0 " + w + " " + h);
  over.replaceChildren();
  for (const [name, c] of Object.entries(lines)) {
    if (!c.line) continue;
    const [[x1, y1], [x2, y2]] = c.line;
    over.append(svg("line", { x1, y1, x2, y2, class: "count-line" }));
    const label = svg("text", { x: (x1 + x2) / 2 + 8, y: (y1 + y2) / 2, class: "count-label" });
    label.textContent = t("{name}: {in} in, {out} out", { name: name, in: c.in, out: c.out });
    over.append(label);
  }
}

pages.dashboard = async function () {
  const select = $("camera"), period = $("period");
  const cams = await api("/api/cameras?limit=1000");
  for (const c of cams.items) select.append(el("option", { value: c.id, text: c.name + " (" + c.id + ")" }));
  const hours = () => (period.value ? { hours: period.value } : {});
  // A camera picked while the previous one still loads must not be overwritten by the older answers.
  let shown = 0;
  async function show() {
    const mine = ++shown;
    const id = encodeURIComponent(select.value);
    const [s, g] = await Promise.all([api(withJust("/api/stats/" + id, hours())), api("/api/gaps?limit=20&camera=" + id)]);
    if (mine !== shown) return;
    const total = s.hourly.reduce((n, r) => n + r.tracks, 0);
    $("empty").hidden = total > 0;
    // hours on the site's clock (the server counts by UTC hour: the same hours wherever the zone's offset is whole hours)
    $("hourly").replaceChildren(...(s.hourly.length ? [el("tr", {}, [t("hour ({zone})", { zone: siteZoneLabel() }), t("class"), t("tracks")].map((h) => el("th", { text: h })))] : []),
      ...s.hourly.map((r) => el("tr", {}, [el("td", { text: siteDate(r.hour) }), el("td", { text: word(r.class) }), el("td", { text: String(r.tracks) })])));
    $("hourly-none").hidden = s.hourly.length > 0;
    const names = Object.keys(s.lines);
    $("lines").replaceChildren(...(names.length ? [el("tr", {}, [t("line"), t("in"), t("out")].map((h) => el("th", { text: h })))] : []),
      ...Object.entries(s.lines).map(([name, c]) => el("tr", {}, [el("td", { text: name }), el("td", { text: String(c.in) }), el("td", { text: String(c.out) })])));
    $("lines-none").hidden = names.length > 0;
    drawLines(s.frame, s.lines);
    $("gaps-none").hidden = g.items.length > 0;
    $("gaps").replaceChildren(...(g.items.length ? [el("tr", {}, [t("from ({zone})", { zone: siteZoneLabel() }), t("to"), t("seconds"), t("reason")].map((h) => el("th", { text: h })))] : []),
      ...g.items.map((r) => el("tr", { "data-gap": String(r.id) }, [el("td", { text: siteDate(r.start, true) }),
        el("td", { text: siteClock(r.end, true) }),
        el("td", { text: ((Date.parse(r.end) - Date.parse(r.start)) / 1000).toFixed(1) }), el("td", { text: r.reason })])));
    $("heat-walk").setAttribute("src", withJust("/api/stats/" + id + "/heatmap", Object.assign({ kind: "walk" }, hours())));
    $("heat-stop").setAttribute("src", withJust("/api/stats/" + id + "/heatmap", Object.assign({ kind: "stop" }, hours())));
  }
  /* The camera with the most tracks in the period, unless the person chose one. */
  async function openOnData() {
    const o = await api(withJust("/api/stats", hours()));
    const best = Object.entries(o.tracks).sort((a, b) => b[1] - a[1])[0];
    if (best) select.value = best[0];
  }
  let chosen = false;  // once the person picks a camera, it stays theirs
  async function refresh() {
    if (!chosen) await openOnData().catch(() => {});
    await show().catch(() => {});
  }
  select.addEventListener("change", () => { chosen = true; show().catch(() => {}); });
  period.addEventListener("change", refresh);
  // investigators give a case reference and a purpose first: the camera with data is found with them
  for (const k of ["case_ref", "purpose"]) $(k).addEventListener("change", refresh);
  if (cams.items.length) {
    await openOnData().catch(() => {});
    await show().catch(() => {});
  }
};

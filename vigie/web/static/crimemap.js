/* Vigie: the crime map (analysts). Incidents of three sources, their density, hot spots, near repeats and the
   hour × weekday pattern, with the filters in the query string of every request, download and report link.
   Places and times only: the API holds nothing about people. Data goes into the DOM with textContent only. */
"use strict";

const CRIMEMAP = {
  layers: {  // the three incident sources, each its own map layer and colour
    imported: { label: t("Imported incidents"), lower: t("imported incidents"), colour: "#2b6cb0" },
    alerts: { label: t("Validated video alerts"), lower: t("validated video alerts"), colour: "#d97706" },
    citizen: { label: t("Accepted citizen reports"), lower: t("accepted citizen reports"), colour: "#8b5cf6" },
  },
  // Gi* classes as the API names them, hot to cold (the usual red-to-blue hot-spot palette)
  hotClasses: [
    ["hot 99%", "#b2182b"], ["hot 95%", "#ef8a62"], ["hot 90%", "#fddbc7"], ["not significant", null],
    ["cold 90%", "#d1e5f0"], ["cold 95%", "#67a9cf"], ["cold 99%", "#2166ac"],
  ],
  densityRamp: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
  weekdays: [t("Monday"), t("Tuesday"), t("Wednesday"), t("Thursday"), t("Friday"), t("Saturday"), t("Sunday")],
  // the Gi* classes' names as the person reads them (the API's names stay the data-class values)
  hotNames: { "hot 99%": t("hot 99%"), "hot 95%": t("hot 95%"), "hot 90%": t("hot 90%"), "not significant": t("not significant"), "cold 90%": t("cold 90%"), "cold 95%": t("cold 95%"), "cold 99%": t("cold 99%") },
  significant: 0.05,
  known: { categories: new Set(), communes: new Set() },  // every category and commune seen, for the filters' lists
};

/* The panels load together and each says what went wrong on its own: api() would let the last answer clear an earlier error. */
const cmGet = (path) => api(path, { quiet: true });

/* The filters form as query parameters (layer and category repeated). Times are sent with their offset (UTC). */
function filterParams() {
  const p = new URLSearchParams();
  for (const box of document.querySelectorAll('#filters input[name="layer"]:checked')) p.append("layer", box.value);
  for (const opt of $("f-category").selectedOptions) p.append("category", opt.value);
  // typed on the site's clock, read when changed (clock.js)
  if ($("f-from").dataset.iso) p.set("from", $("f-from").dataset.iso);
  if ($("f-to").dataset.iso) p.set("to", $("f-to").dataset.iso);
  if ($("f-commune").value) p.set("commune", $("f-commune").value);
  return p;
}

function withParams(path, params, extra) {
  const p = new URLSearchParams(params);
  for (const [k, v] of Object.entries(extra || {})) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
  const q = p.toString();
  return q ? path + "?" + q : path;
}

function num(v, digits) {
  if (v === null || v === undefined || v === "") return "–";
  const n = Number(v);
  const d = digits === undefined ? 0 : digits;
  return Number.isFinite(n) ? n.toLocaleString(window.VIGIE_LOCALE, { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: false }) : String(v);
}

/* "p = 0.012", "p < 0.001" */
function pText(p) {
  if (p === null || p === undefined) return "p = –";
  return Number(p) < 0.001 ? "p < " + num(0.001, 3) : "p = " + num(p, 3);
}

/* A name or an object naming it ({name|category|commune|code, count}): the API's lists may give either. */
/* --- the map ------------------------------------------------------------------------------------------ */
/* Panes: cells under points, so markers stay clickable above the density and hot spots. One canvas renderer per
   pane draws thousands of circles without a DOM node each. */
function crimeMapLayers(map) {
  map.createPane("cells").style.zIndex = 350;
  map.createPane("points").style.zIndex = 450;
  const cellRenderer = L.canvas({ pane: "cells" });
  const pointRenderer = L.canvas({ pane: "points", padding: 0.2 });
  const groups = {};
  for (const key of Object.keys(CRIMEMAP.layers)) groups[key] = L.layerGroup().addTo(map);
  groups.density = L.layerGroup().addTo(map);
  groups.hotspots = L.layerGroup();
  groups.communes = L.layerGroup();
  const overlays = {};
  for (const [key, def] of Object.entries(CRIMEMAP.layers)) overlays[def.label] = groups[key];
  overlays[t("Density (kernel)")] = groups.density;
  overlays[t("Hot spots (Gi*)")] = groups.hotspots;
  overlays[t("Per commune")] = groups.communes;
  // Off at first: their labels would cover the incidents; on, they help find one's bearings without map tiles.
  if (!VIGIE.tileUrl) overlays[t("Cameras, as landmarks")] = groups.landmarks = L.layerGroup();
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  return { groups, cellRenderer, pointRenderer };
}

function incidentTooltip(p) {
  return el("span", { text: [p.category ? alertKind(p.category) : p.category, CRIMEMAP.layers[p.layer] ? CRIMEMAP.layers[p.layer].label : p.layer, fmtTime(p.occurred_at),
    p.commune, p.source ? t("source: {source}", { source: p.source }) : ""].filter(Boolean).join(" · ") });
}

/* Draws the incidents into their source's layer; returns the drawn count per source and every position. */
function drawIncidents(ctx, gj) {
  const counts = {}, latlngs = [];
  for (const key of Object.keys(CRIMEMAP.layers)) { ctx.groups[key].clearLayers(); counts[key] = 0; }
  for (const f of gj.features || []) {
    const p = f.properties || {};
    const group = ctx.groups[p.layer];
    if (!group || !f.geometry || f.geometry.type !== "Point") continue;
    const at = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
    L.circleMarker(at, { renderer: ctx.pointRenderer, radius: 4, color: "#fff", weight: 1, fillColor: CRIMEMAP.layers[p.layer].colour, fillOpacity: 0.9 })
      .bindTooltip(incidentTooltip(p)).addTo(group);
    counts[p.layer] += 1;
    latlngs.push(at);
  }
  return { counts, latlngs };
}

function polygonLatLngs(geometry) {
  const ring = (r) => r.map((c) => [c[1], c[0]]);
  if (geometry.type === "Polygon") return geometry.coordinates.map(ring);
  if (geometry.type === "MultiPolygon") return geometry.coordinates.map((poly) => poly.map(ring));
  return null;
}

function drawDensity(ctx, gj) {
  ctx.groups.density.clearLayers();
  const ramp = CRIMEMAP.densityRamp;
  for (const f of gj.features || []) {
    const share = Number((f.properties || {}).share) || 0;
    const rings = f.geometry && polygonLatLngs(f.geometry);
    if (!rings || share <= 0.02) continue;  // the faintest cells would only grey the map
    const colour = ramp[Math.min(ramp.length - 1, Math.floor(share * ramp.length))];
    L.polygon(rings, { renderer: ctx.cellRenderer, stroke: false, fillColor: colour, fillOpacity: 0.25 + 0.45 * share, interactive: false })
      .addTo(ctx.groups.density);
  }
}

function hotColour(cls) {
  const hit = CRIMEMAP.hotClasses.find(([name]) => name === cls);
  return hit ? hit[1] : null;
}

function drawHotspots(ctx, gj) {
  ctx.groups.hotspots.clearLayers();
  for (const f of gj.features || []) {
    const p = f.properties || {};
    const colour = hotColour(p.class);
    const rings = f.geometry && polygonLatLngs(f.geometry);
    if (!rings || !colour) continue;  // "not significant" cells are left clear: only what stands out is coloured
    L.polygon(rings, { renderer: ctx.cellRenderer, color: "#444", weight: 0.5, fillColor: colour, fillOpacity: 0.65 })
      .bindTooltip(el("span", { text: (CRIMEMAP.hotNames[p.class] || p.class) + " · " + t("{count} incident(s)", { count: p.count }) + " · z = " + num(p.z, 2) + " · " + pText(p.p_norm) }))  // p_norm: the p-value the class comes from
      .addTo(ctx.groups.hotspots);
  }
}

function drawCommunes(ctx, gj) {
  ctx.groups.communes.clearLayers();
  const counts = (gj.features || []).map((f) => Number((f.properties || {}).count) || 0);
  const max = Math.max(1, ...counts);
  // Polygons keep the site file's name property (gj.name_property, e.g. "nom"); points are named "name".
  const label = (p) => el("span", { text: t("{commune}: {count} incident(s)", { commune: p[gj.name_property] || p.name || t("commune"), count: p.count || 0 }) });
  for (const f of gj.features || []) {
    const p = f.properties || {};
    const share = (Number(p.count) || 0) / max;
    if (f.geometry && f.geometry.type === "Point") {  // no commune outlines: a circle at the incidents' mean position
      const c = f.geometry.coordinates;
      L.circleMarker([c[1], c[0]], { renderer: ctx.cellRenderer, radius: 6 + 24 * Math.sqrt(share), color: "#0f766e", weight: 2, fillColor: "#14b8a6", fillOpacity: 0.35 })
        .bindTooltip(label(p)).addTo(ctx.groups.communes);
      continue;
    }
    const rings = f.geometry && polygonLatLngs(f.geometry);
    if (rings) L.polygon(rings, { renderer: ctx.cellRenderer, color: "#0f766e", weight: 2, fillColor: "#14b8a6", fillOpacity: 0.1 + 0.5 * share })
      .bindTooltip(label(p)).addTo(ctx.groups.communes);
  }
}

/* What the incident layers show now, in words; data-count is the sum (the browser tests read it). */
function showDrawn(map, ctx, counts) {
  const shown = Object.keys(CRIMEMAP.layers).filter((k) => map && map.hasLayer(ctx.groups[k]));
  const total = shown.reduce((s, k) => s + (counts[k] || 0), 0);
  $("drawn").dataset.count = String(total);
  $("drawn").textContent = shown.length
    ? t("Drawn: {list}.", { list: shown.map((k) => (counts[k] || 0) + " " + CRIMEMAP.layers[k].lower).join(", ") })
    : t("No incident layer is shown: tick one in the map's layer list.");
}

/* A legend's colour square (or dot); null: a clear square, as the map leaves the cell. */
function swatch(colour, shape) {
  const s = el("span", { class: "swatch" + (shape ? " " + shape : ""), "aria-hidden": "true" });
  if (colour) s.style.background = colour;  // CSSOM, not a style attribute: allowed by the CSP
  return s;
}

/* --- the side panels ---------------------------------------------------------------------------------- */
function fillSelect(select, items, keep) {
  const chosen = new Set(keep);
  const first = select.multiple ? [] : [select.options[0]];
  select.replaceChildren(...first, ...items.map((name) => {
    const opt = el("option", { value: name, text: select.id === "f-category" ? alertKind(name) : name });
    opt.selected = chosen.has(name);
    return opt;
  }));
}

function showSummary(s) {
  $("statement").textContent = s.statement || "";
  const keepCats = [...$("f-category").selectedOptions].map((o) => o.value);
  const keepCommune = $("f-commune").value;
  // The lists only ever grow: the summary names what the filtered incidents hold, and a category chosen must not
  // hide the others from the list.
  for (const c of s.categories) CRIMEMAP.known.categories.add(c);
  for (const c of s.communes) CRIMEMAP.known.communes.add(c);
  fillSelect($("f-category"), [...CRIMEMAP.known.categories].sort(), keepCats);
  fillSelect($("f-commune"), [...CRIMEMAP.known.communes].sort(), [keepCommune]);
  $("f-commune").value = keepCommune;
  $("period").textContent = s.period ? t("Period: {from} – {to}.", { from: fmtTime(s.period.from), to: fmtTime(s.period.to) }) : "";
  const rows = [el("tr", {}, [el("th", { text: t("Source") }), el("th", { text: t("Incidents") })])];
  for (const [key, def] of Object.entries(CRIMEMAP.layers))
    rows.push(el("tr", {}, [el("td", {}, [swatch(def.colour, "dot"), def.label]), el("td", { text: String(s.by_layer[key] || 0) })]));
  const cats = Object.entries(s.by_category);
  if (cats.length) rows.push(el("tr", {}, [el("th", { text: t("Category") }), el("th", { text: t("Incidents") })]));
  for (const [name, n] of cats) rows.push(el("tr", {}, [el("td", { text: alertKind(name) }), el("td", { text: String(n) })]));
  $("counts").replaceChildren(...rows);
  $("counts").dataset.total = String(s.total);
}

/* The bandwidth and how it was chosen, first: the density map's look depends on it more than on anything else. */
function showDensityInfo(gj) {
  const how = gj.bandwidth_method === "given" ? t("given in the filters above") : t("chosen by {method}", { method: gj.bandwidth_method || "–" });
  $("density-info").replaceChildren(
    el("strong", { id: "bandwidth", text: t("Bandwidth {metres} m", { metres: num(gj.bandwidth_m) }) }),
    el("span", { id: "bandwidth-method", text: ", " + how + ". " }),
    el("span", { class: "muted", text: t("Gaussian kernel density of {n} incident(s) on cells of {cell} m; colour: share of the peak", { n: num(gj.n), cell: num(gj.cell_m) })
      + (gj.peak_density !== undefined ? " (" + num(gj.peak_density, 1) + " " + (gj.units || t("per km²")) + ")" : "") + (gj.omitted ? "; " + t("{n} left clear", { n: gj.omitted }) : "") + "." }));
}

function showHotspotLegend(gj) {
  let counts = gj.classes;
  if (!counts) {
    counts = {};
    for (const f of gj.features || []) counts[(f.properties || {}).class] = (counts[(f.properties || {}).class] || 0) + 1;
  }
  const weights = gj.weights && typeof gj.weights === "object" ? JSON.stringify(gj.weights) : gj.weights;
  $("hotspot-info").textContent = t("Cells of {cell} m, {n} incident(s); pseudo p-values from {permutations} permutations; weights: {weights}.", { cell: num(gj.cell_m), n: num(gj.n), permutations: num(gj.permutations), weights: weights || "–" })
    + " " + (gj.fdr || (gj.fdr_p !== undefined && gj.fdr_p !== null ? t("False discovery rate threshold: p ≤ {p}", { p: num(gj.fdr_p, 4) }) : "")) + ".";
  $("hotspot-legend").replaceChildren(
    el("tr", {}, [el("th", { text: t("Class") }), el("th", { text: t("Cells") })]),
    ...CRIMEMAP.hotClasses.map(([cls, colour]) => el("tr", { "data-class": cls }, [
      el("td", {}, [swatch(colour), CRIMEMAP.hotNames[cls] || cls]), el("td", { text: String(counts[cls] || 0) })])));
}

/* Band labels: the API may give [lo, hi] pairs, {from, to}, or text. */
function bandText(v, unit) {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return num(v[0]) + "–" + num(v[1]) + " " + unit;
  if (typeof v === "object") return num(v.from !== undefined ? v.from : v.min) + "–" + num(v.to !== undefined ? v.to : v.max) + " " + unit;
  return String(v);
}

function nearRepeatBands(row) {
  const d = row.distance_band !== undefined ? row.distance_band : (row.distance !== undefined ? row.distance : [row.distance_from_m, row.distance_to_m]);
  const tb = row.time_band !== undefined ? row.time_band : (row.time !== undefined ? row.time : [row.time_from_days, row.time_to_days]);
  return [bandText(d, "m"), bandText(tb, t("days"))];
}

function pOf(x) { return x.p_value !== undefined ? x.p_value : x.p; }

function showNearRepeat(nr) {
  const k = nr.knox || {};
  $("knox-info").textContent = k.observed !== undefined
    ? t("Pairs within {metres} m and {days} days of each other: {observed} observed, {expected} expected; ratio {ratio}, {p} ({permutations} permutations).", { metres: num(k.delta_m), days: num(k.tau_days), observed: num(k.observed), expected: num(k.expected, 1), ratio: num(k.ratio, 2), p: pText(pOf(k)), permutations: num(k.permutations) }) + (nr.subsample ? " " + nr.subsample + "." : "")
    : "";
  const rows = nr.table || [];
  const dists = [], times = [], cells = new Map();
  for (const row of rows) {
    const [d, tb] = nearRepeatBands(row);
    if (!dists.includes(d)) dists.push(d);
    if (!times.includes(tb)) times.push(tb);
    cells.set(d + "|" + tb, row);
  }
  const head = el("tr", {}, [el("th", { text: t("distance \\ time") }), ...times.map((tb) => el("th", { text: tb }))]);
  const body = dists.map((d) => el("tr", {}, [el("th", { text: d }), ...times.map((tb) => {
    const c = cells.get(d + "|" + tb);
    if (!c) return el("td", { text: "" });
    const p = pOf(c);
    const sig = p !== null && p !== undefined && Number(p) < CRIMEMAP.significant && Number(c.ratio) > 1;
    const td = el("td", { class: sig ? "sig" : "", title: sig ? t("{observed} observed, {expected} expected, {p} (significant)", { observed: num(c.observed), expected: num(c.expected, 1), p: pText(p) }) : t("{observed} observed, {expected} expected, {p}", { observed: num(c.observed), expected: num(c.expected, 1), p: pText(p) }) }, [
      el("strong", { text: num(c.ratio, 2) }), el("span", { class: "muted", text: " " + num(c.observed) + "/" + num(c.expected, 1) })]);
    return td;
  })]));
  $("near-repeat").replaceChildren(...(rows.length ? [head, ...body] : [el("tr", {}, [el("td", { text: t("Too few incidents for the test.") })])]));
}

function heatColour(share) {
  return "rgba(239, 68, 68, " + (0.08 + 0.85 * share).toFixed(2) + ")";
}

function showTimePattern(tp) {
  const counts = tp.counts || [];
  const max = Math.max(1, ...counts.flat().map(Number));
  const hours = [...Array(24).keys()];
  const head = el("tr", {}, [el("th", { text: "" }), ...hours.map((h) => el("th", { text: String(h).padStart(2, "0") })), el("th", { text: t("All") })]);
  const rows = counts.map((day, i) => el("tr", {}, [
    el("th", { text: CRIMEMAP.weekdays[i].slice(0, 3), title: CRIMEMAP.weekdays[i] }),
    ...day.map((n, h) => {
      const td = el("td", { text: n ? String(n) : "", title: t("{day} {from}:00–{to}:00: {count} incident(s)", { day: CRIMEMAP.weekdays[i], from: String(h).padStart(2, "0"), to: String(h + 1).padStart(2, "0"), count: n }) });
      if (n) td.style.background = heatColour(n / max);  // CSSOM, not a style attribute: allowed by the CSP
      return td;
    }),
    el("th", { text: String((tp.by_weekday || [])[i] !== undefined ? tp.by_weekday[i] : day.reduce((a, b) => a + b, 0)) }),
  ]));
  const foot = el("tr", {}, [el("th", { text: t("All") }), ...hours.map((h) => el("th", { text: String((tp.by_hour || [])[h] || 0) })), el("th", { text: "" })]);
  $("time-heat").replaceChildren(head, ...rows, foot);
  const chi = tp.chi_square || { statistic: tp.chi2, p_value: tp.p };
  // each import on its own clock (its time zone): Toronto's file at Toronto's hours
  const zones = Object.entries(tp.zones || {});
  const clocks = zones.length > 1 ? zones.map(([z, n]) => t("{zone}: {count}", { zone: z, count: num(n) })).join(", ") : (tp.timezone || "UTC");
  $("time-info").textContent = t("{count} incident(s), each at the local time of its own import ({zones}).", { count: num(tp.n), zones: clocks }) + " "
    + (chi.statistic !== undefined && chi.statistic !== null ? t("Against an even spread over the week's 168 hours: χ² = {chi2}, {p}.", { chi2: num(chi.statistic, 1), p: pText(chi.p_value) }) : "")
    + (chi.note ? " (" + chi.note + ")" : "");
}

function setLinks(params) {
  for (const name of ["incidents", "density", "hotspots", "communes"]) {
    const extra = { download: "true" };
    if (name === "density") extra.bandwidth_m = $("f-bandwidth").value;
    if (name === "hotspots") extra.cell_m = $("f-cell").value;
    $("dl-" + name).setAttribute("href", withParams("/api/crimemap/" + name, params, extra));
  }
  $("report-html").setAttribute("href", withParams("/api/crimemap/report", params, { format: "html" }));
  $("report-pdf").setAttribute("href", withParams("/api/crimemap/report", params, { format: "pdf" }));
}

/* --- imports ------------------------------------------------------------------------------------------- */
function problemText(p) {
  if (typeof p !== "object" || p === null) return String(p);
  const where = [p.row !== undefined && p.row !== null ? t("row {row}", { row: p.row }) : "", p.field ? t("field {field}", { field: p.field }) : ""].filter(Boolean).join(", ");
  return (where ? where + ": " : "") + (p.message || p.error || p.problem || JSON.stringify(p));
}

async function listImports() {
  const r = await cmGet("/api/crimemap/imports");
  const items = Array.isArray(r) ? r : (r.items || r.imports || []);
  if (!items.length) { $("imports").replaceChildren(el("tr", {}, [el("td", { class: "muted", text: t("No import yet.") })])); return; }
  $("imports").replaceChildren(
    el("tr", {}, ["#", t("Imported"), t("File"), t("Source"), t("Rows"), t("By"), t("Time zone")].map((h) => el("th", { text: h }))),
    ...items.map((i) => el("tr", { "data-import": String(i.id) }, [
      String(i.id), fmtTime(i.imported_at), i.file_name || "", i.source || "",
      String(i.stored !== undefined ? i.stored : (i.rows !== undefined ? i.rows : "")), i.imported_by || "", i.timezone || siteZone(),
    ].map((v) => el("td", { class: "wrap", text: v })))));
}

function setupImport(reload) {
  onSlow($("import-form"), "submit", async (ev) => {
    ev.preventDefault();
    $("import-msg").textContent = t("Importing…");
    $("import-problems").replaceChildren();
    try {
      const r = await api("/api/crimemap/imports", { method: "POST", body: new FormData($("import-form")) });
      const period = r.period ? ", " + fmtTime(r.period.from) + " – " + fmtTime(r.period.to) : "";
      $("import-msg").textContent = (r.source ? t("Imported {rows} incident(s) from {file} ({source}){period}.", { rows: r.rows, file: r.file_name, source: r.source, period: period }) : t("Imported {rows} incident(s) from {file}{period}.", { rows: r.rows, file: r.file_name, period: period }))
        + (r.ignored_columns && r.ignored_columns.length ? " " + t("Columns ignored, never stored: {columns}.", { columns: r.ignored_columns.join(", ") }) : "");
      $("import-form").reset();
      await Promise.all([reload(), listImports().catch(() => {})]);
    } catch (e) {
      $("import-msg").textContent = e.status === 413 ? t("The file is too large: {reason}", { reason: e.message }) : t("The file was refused: {reason}", { reason: e.message });
      const problems = (e.data && e.data.problems) || [];
      $("import-problems").replaceChildren(...problems.map((p) => el("li", { text: problemText(p) })));
    }
  });
}

/* --- the page --------------------------------------------------------------------------------------------- */
pages.crimemap = async function () {
  const map = await makeMap("map", { blank: t("No map tiles configured: incidents are drawn on a blank background (the layer list can add the public register's cameras as landmarks).") });
  const ctx = map ? crimeMapLayers(map) : null;
  if (map && !VIGIE.tileUrl) drawLandmarks(map, false, ctx.groups.landmarks).catch(() => {});
  let drawnCounts = {};
  let fitted = false;
  if (map) map.on("overlayadd overlayremove", () => showDrawn(map, ctx, drawnCounts));

  /* One panel's load: its failure is said in the error line, the other panels still load. */
  async function part(name, path, show) {
    try { show(await cmGet(path)); return null; } catch (e) { return name + ": " + e.message; }
  }

  /* Nothing matches: every layer and panel is emptied (the analyses refuse to describe nothing, and a stale
     picture would mislead). */
  function clearAll(text) {
    if (ctx) for (const g of Object.values(ctx.groups)) g.clearLayers();
    drawnCounts = {};
    for (const id of ["density-info", "hotspot-info", "knox-info", "time-info"]) $(id).textContent = "";
    for (const id of ["hotspot-legend", "near-repeat", "time-heat"]) $(id).replaceChildren();
    $("drawn").dataset.count = "0";
    $("drawn").textContent = text;
  }

  async function load() {
    await siteTimesSettled();
    const params = filterParams();
    setLinks(params);
    delete document.body.dataset.loaded;
    $("drawn").textContent = t("Loading…");
    const errors = [];
    const summaryError = await part(t("summary"), withParams("/api/crimemap/summary", params), showSummary);
    if (summaryError) errors.push(summaryError);
    else if (!Number($("counts").dataset.total)) clearAll(t("No incident matches these filters: widen the period, the categories or the sources."));
    else errors.push(...(await Promise.all([
      part(t("incidents"), withParams("/api/crimemap/incidents", params), (gj) => {
        if (!ctx) return;
        const got = drawIncidents(ctx, gj);
        drawnCounts = got.counts;
        showDrawn(map, ctx, drawnCounts);
        if (gj.truncated) $("drawn").textContent += " " + t("Only the most recent {shown} of {total} incidents are drawn: narrow the filters.", { shown: (gj.features || []).length, total: gj.total });
        if (!fitted && got.latlngs.length) { fitTo(map, got.latlngs); fitted = true; }
      }),
      part(t("density"), withParams("/api/crimemap/density", params, { bandwidth_m: $("f-bandwidth").value }), (gj) => {
        showDensityInfo(gj);
        if (ctx) drawDensity(ctx, gj);
      }),
      part(t("hot spots"), withParams("/api/crimemap/hotspots", params, { cell_m: $("f-cell").value }), (gj) => {
        showHotspotLegend(gj);
        if (ctx) drawHotspots(ctx, gj);
      }),
      part(t("near repeat"), withParams("/api/crimemap/near-repeat", params), showNearRepeat),
      part(t("time pattern"), withParams("/api/crimemap/time-pattern", params), showTimePattern),
      part(t("communes"), withParams("/api/crimemap/communes", params), (gj) => { if (ctx) drawCommunes(ctx, gj); }),
    ])).filter(Boolean));
    showError(errors.join("\n"));
    document.body.dataset.loaded = "true";  // every panel has answered (the browser tests wait for it)
  }

  $("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    load().catch((e) => showError(e.message));
  });
  setupImport(load);
  listImports().catch((e) => { $("imports").replaceChildren(el("tr", {}, [el("td", { class: "error", text: e.message })])); });
  await load();
};

/* The search page's camera picker: cameras chosen by name from a list grouped by commune and group (or typed:
   names, groups and communes are read by the server whatever their case or accents, e.g. "esplanade", "centre"),
   and the server's reading of each typed name said back. Names hold commas, so a list is cut at ";" only. */
"use strict";

function placeList(v) { return String(v || "").split(/[;\n]/).map((s) => s.trim()).filter(Boolean); }

/* The server's reading of typed names ({cameras: {"esplanade": ["nimes-esplanade-01"]}}), as sentences. */
function placesRead(places, names) {
  const lines = [];
  for (const [field, read] of Object.entries(places || {}))
    for (const [given, found] of Object.entries(read))
      lines.push(field === "cameras"
        ? t("\"{given}\" is read as {cameras}.", { given: given, cameras: found.map((id) => names.get(id) || id).join("; ") })
        : t("\"{given}\" is read as {name}.", { given: given, name: found.join("; ") }));
  return lines.join(" ");
}

/* Leaflet, loaded when the picker's map is first opened (the search page itself does not need it). */
function loadLeaflet() {
  if (typeof window.L !== "undefined") return Promise.resolve();
  return new Promise((resolve) => {
    document.head.append(el("link", { rel: "stylesheet", href: "/static/leaflet/leaflet.css" }));
    const script = el("script", { src: "/static/leaflet/leaflet.js" });
    script.addEventListener("load", () => resolve());
    script.addEventListener("error", () => resolve());  // makeMap then says the map library is missing
    document.head.append(script);
  });
}

/* The picker's map: each camera a marker labelled with its name (a marker takes the keyboard's focus and
   Enter as a click); a click ticks or unticks it in the list. */
async function drawPickerMap(cams, ticks) {
  await loadLeaflet();
  const map = await makeMap("picker-map");
  if (!map) return;
  const points = [];
  for (const c of cams) {
    if (!Number.isFinite(c.lat) || !Number.isFinite(c.lon)) continue;
    const name = c.name || c.id;
    L.marker([c.lat, c.lon], { title: name, alt: name, keyboard: true })
      .bindTooltip(el("span", { text: name }), { permanent: true, direction: "right", className: "landmark" })
      .on("click", () => ticks.get(c.id).click())
      .on("keypress", (e) => { if (e.originalEvent.key === "Enter") ticks.get(c.id).click(); })  // Leaflet's own Enter opens popups only
      .addTo(map);
    points.push([c.lat, c.lon]);
  }
  fitTo(map, points);
}

async function setupCameraPicker() {
  const input = $("cameras");
  if (!input) return new Map();
  const data = await api("/api/cameras?limit=1000", { quiet: true });
  const names = new Map(data.items.map((c) => [c.id, c.name || c.id]));
  const lists = { cameras: el("datalist", { id: "camera-names" }), groups: el("datalist", { id: "group-names" }) };
  for (const c of data.items) lists.cameras.append(el("option", { value: c.name || c.id }));
  for (const g of [...new Set(data.items.map((c) => c.group).filter(Boolean))].sort()) lists.groups.append(el("option", { value: g }));
  input.setAttribute("list", "camera-names");
  input.after(lists.cameras);
  if ($("groups")) { $("groups").setAttribute("list", "group-names"); $("groups").after(lists.groups); }

  // the list: one checkbox per camera, by commune then group; a tick adds the camera's name to the field
  const box = el("details", { class: "picker" }, [el("summary", { text: t("Pick cameras on the map or from the list") })]);
  const mapBox = el("div", { id: "picker-map", class: "map picker-map", role: "region", "aria-label": t("Map of the cameras, each labelled with its name: a click on one picks it") });
  box.append(mapBox);
  const ticks = new Map();  // camera id -> its checkbox
  const byPlace = new Map();
  for (const c of data.items) {
    const key = [c.commune, c.group].filter(Boolean).join(" · ") || t("Other cameras");
    if (!byPlace.has(key)) byPlace.set(key, []);
    byPlace.get(key).push(c);
  }
  const chosen = () => new Set(placeList(input.value).map((n) => n.toLowerCase()));
  for (const [key, cams] of [...byPlace.entries()].sort()) {
    const set = el("fieldset", { class: "picker-group" }, [el("legend", { text: key })]);
    for (const c of cams) {
      const name = c.name || c.id;
      const tick = el("input", { type: "checkbox", value: name });
      ticks.set(c.id, tick);
      tick.addEventListener("change", () => {
        const now = placeList(input.value).filter((n) => n.toLowerCase() !== name.toLowerCase());
        if (tick.checked) now.push(name);
        input.value = now.join("; ");
      });
      input.addEventListener("input", () => { tick.checked = chosen().has(name.toLowerCase()); });
      set.append(el("label", { class: "inline" }, [tick, el("span", { text: name + " (" + c.id + ")" })]));
    }
    box.append(set);
  }
  $("search-form").querySelector("fieldset.just").before(box);
  let drawn = false;
  box.addEventListener("toggle", () => {
    if (box.open && !drawn) { drawn = true; drawPickerMap(data.items, ticks).catch(() => {}); }
  });
  return names;
}

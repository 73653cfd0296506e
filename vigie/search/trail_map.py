"""Pictures of a trail: a self-contained Leaflet page, and a PNG for terminals and reports.

The page inlines Leaflet (npm package `leaflet` 1.9.x), the trail's GeoJSON
and the thumbnails, so it opens from a file on a control-room machine with no
network. Tiles are optional: offline control rooms run their own tile server
and pass its URL; without one the trail is drawn on a blank background with a
scale bar, which is enough to read distances and order.

The PNG needs nothing but OpenCV: an equirectangular plot (x scaled by
cos(latitude), exact enough over a city) of the cameras visited, the trail
coloured by link confidence, numbered stops, their times and a scale bar.

Both take the dict made by vigie.search.trail.trail_geojson.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from vigie.errors import VigieError
from vigie.i18n import _

REPO_ROOT = Path(__file__).resolve().parents[2]
LEAFLET_INSTALL_HINT = "npm install leaflet@1.9.4 (or `make setup`, which runs npm install from package.json)"
MAX_THUMBNAIL_BYTES = 2_000_000  # larger files are linked by name, not inlined
EARTH_RADIUS_M = 6_371_008.8

# Link confidence -> colour: red (doubtful) through amber to green (sure).
# The same stops are used on the page (JS) and in the PNG.
CONFIDENCE_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (215, 48, 39)),
    (0.5, (253, 174, 97)),
    (1.0, (26, 152, 80)),
)


class LeafletMissingError(VigieError):
    """The Leaflet files the map page inlines are not installed."""


# --- shared helpers ------------------------------------------------------------------


def confidence_rgb(c: float) -> tuple[int, int, int]:
    """Colour of a link of confidence c in [0, 1], interpolated between CONFIDENCE_STOPS."""
    c = min(1.0, max(0.0, float(c)))
    for (c0, rgb0), (c1, rgb1) in zip(CONFIDENCE_STOPS, CONFIDENCE_STOPS[1:]):
        if c <= c1:
            t = (c - c0) / (c1 - c0)
            return tuple(int(round(a + (b - a) * t)) for a, b in zip(rgb0, rgb1))  # type: ignore[return-value]
    return CONFIDENCE_STOPS[-1][1]


def _stops(geojson: dict) -> list[dict]:
    """The Point features' properties and positions, in trail order."""
    pts = [f for f in geojson.get("features", []) if f.get("geometry", {}).get("type") == "Point"]
    pts.sort(key=lambda f: f["properties"].get("order", 0))
    return [
        {**f["properties"], "lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]} for f in pts
    ]


def _line_props(geojson: dict) -> dict:
    for f in geojson.get("features", []):
        if f.get("geometry", {}).get("type") == "LineString":
            return f.get("properties", {})
    return {}


# --- the Leaflet page ----------------------------------------------------------------


def find_leaflet(leaflet_dir: Path | None = None) -> Path:
    """The folder holding leaflet.js and leaflet.css: the one given, else node_modules of the repo or the working folder."""
    tried = (
        [Path(leaflet_dir)]
        if leaflet_dir is not None
        else [
            REPO_ROOT / "node_modules" / "leaflet" / "dist",
            Path.cwd() / "node_modules" / "leaflet" / "dist",
        ]
    )
    for d in tried:
        if (d / "leaflet.js").is_file() and (d / "leaflet.css").is_file():
            return d
    raise LeafletMissingError(
        _(
            "Leaflet is not installed (no leaflet.js and leaflet.css in {value}): run `{leaflet_install_hint}` in {repo_root}",
            value=", ".join(str(d) for d in tried),
            leaflet_install_hint=LEAFLET_INSTALL_HINT,
            repo_root=REPO_ROOT,
        )
    )


def _inline_css(css: str, folder: Path) -> str:
    """Leaflet's CSS with its url(images/...) turned into data URIs, so the page needs no side files."""

    def repl(m: re.Match) -> str:
        f = folder / m.group(1)
        if not f.is_file():
            return m.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(f.read_bytes()).decode('ascii')})"

    return re.sub(r"url\((images/[A-Za-z0-9_.-]+\.png)\)", repl, css)


def _script_safe(text: str) -> str:
    """Text that cannot close the <script> element it sits in."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def _style_safe(text: str) -> str:
    """CSS that cannot close the <style> element it sits in."""
    return re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)


def _json_for_script(obj) -> str:
    """JSON whose '<', '>' and '&' are escaped: valid JS, and inert inside HTML."""
    return json.dumps(obj, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _thumbnail_uri(path: str | None, root: Path) -> str | None:
    """A data URI of the thumbnail, so the page carries the pictures with it; None if unreadable."""
    if not path:
        return None
    f = Path(path)
    if not f.is_absolute():
        f = root / f
    try:
        if not f.is_file() or f.stat().st_size > MAX_THUMBNAIL_BYTES:
            return None
        data = f.read_bytes()
    except OSError:
        return None
    return _data_uri(data)


def _data_uri(data: bytes | None) -> str | None:
    """A data URI of a JPEG or PNG; None for anything else (a store's sealed thumbnail file is neither)."""
    if not data:
        return None
    if data[:4] == b"\x89PNG":
        mime = "image/png"
    elif data[:2] == b"\xff\xd8":
        mime = "image/jpeg"
    else:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _with_thumbnails(geojson: dict, root: Path, pictures: Callable[[dict], bytes | None] | None = None) -> dict:
    """A copy of the collection whose Points carry `thumbnail_src` (a data URI): `pictures(properties)`
    where given (the store's crops, blurred: vigie.privacy.pictures), else the readable picture file."""
    out = json.loads(json.dumps(geojson))
    for f in out.get("features", []):
        props = f.get("properties") or {}
        if f.get("geometry", {}).get("type") == "Point":
            if pictures is not None:
                props["thumbnail_src"] = _data_uri(pictures(props))
            else:
                props["thumbnail_src"] = _thumbnail_uri(props.get("thumbnail_path"), root)
    return out


_PAGE_CSS = """
html, body { height: 100%; margin: 0; font: 13px/1.35 system-ui, sans-serif; color: #222; }
#map { position: absolute; top: 0; bottom: 0; left: 0; right: 320px; background: #f3f2ee; }
#side { position: absolute; top: 0; bottom: 0; right: 0; width: 320px; overflow-y: auto;
        box-sizing: border-box; padding: 10px 12px; border-left: 1px solid #ccc; background: #fff; }
#side h1 { font-size: 15px; margin: 0 0 4px; }
#side .meta { color: #555; margin-bottom: 8px; }
#side ol { padding-left: 0; list-style: none; margin: 0; }
#side li { padding: 4px 0; border-bottom: 1px solid #eee; cursor: pointer; }
#side li:hover { background: #f6f6f6; }
#side .hop { color: #666; font-size: 12px; padding: 1px 0 1px 26px; cursor: default; }
#side details { margin-top: 10px; }
#side .rej { font-size: 12px; color: #444; padding: 2px 0; }
.num { display: inline-block; width: 20px; height: 20px; line-height: 20px; border-radius: 50%;
       text-align: center; font-weight: bold; font-size: 11px; color: #fff; background: #333; margin-right: 6px; }
.vg-stop { display: flex; align-items: center; justify-content: center; border-radius: 50%;
           border: 2px solid #fff; box-shadow: 0 0 3px rgba(0,0,0,.6); color: #fff; font-weight: bold;
           font-size: 12px; background: #333; box-sizing: border-box; }
.vg-stop.query { background: #1f5fbf; }
.vg-arrow { width: 0; height: 0; border-top: 6px solid transparent; border-bottom: 6px solid transparent;
            border-left: 11px solid #333; transform-origin: 50% 50%; }
.vg-popup img { max-width: 180px; max-height: 200px; display: block; margin-top: 4px; }
.legend { background: rgba(255,255,255,.9); padding: 6px 8px; border-radius: 4px; font-size: 12px; }
.legend .bar { width: 140px; height: 10px; margin: 3px 0; }
"""

# The page's own script. Reads TRAIL (GeoJSON) and OPTIONS; everything shown
# is escaped, camera ids and paths come from site files and the store.
_PAGE_JS = r"""
(function () {
  var esc = function (s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); };
  var STOPS = OPTIONS.confidence_stops;
  function colour(c) {
    c = Math.max(0, Math.min(1, c == null ? 0 : c));
    for (var k = 1; k < STOPS.length; k++) {
      if (c <= STOPS[k][0]) {
        var t = (c - STOPS[k - 1][0]) / (STOPS[k][0] - STOPS[k - 1][0]), a = STOPS[k - 1][1], b = STOPS[k][1];
        return 'rgb(' + [0, 1, 2].map(function (i) { return Math.round(a[i] + (b[i] - a[i]) * t); }).join(',') + ')';
      }
    }
    return 'rgb(' + STOPS[STOPS.length - 1][1].join(',') + ')';
  }
  function hms(iso) { return iso ? iso.substr(11, 8) : ''; }
  function fmtDist(m) { return m >= 1000 ? (m / 1000).toFixed(2) + ' km' : Math.round(m) + ' m'; }
  function fmtGap(s) { return s < 0 ? 'overlapping' : s < 120 ? Math.round(s) + ' s' : s < 7200 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(1) + ' h'; }

  var feats = TRAIL.features || [];
  var stops = feats.filter(function (f) { return f.geometry.type === 'Point'; })
                   .sort(function (a, b) { return a.properties.order - b.properties.order; });
  var line = feats.filter(function (f) { return f.geometry.type === 'LineString'; })[0];
  var lp = line ? line.properties : {};

  var map = L.map('map', {zoomSnap: 0.25, preferCanvas: false});
  if (OPTIONS.tile_url) {
    L.tileLayer(OPTIONS.tile_url, {maxZoom: 20, attribution: OPTIONS.tile_attribution || ''}).addTo(map);
  }
  L.control.scale({metric: true, imperial: false, maxWidth: 200}).addTo(map);

  var latlngs = stops.map(function (f) { return L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]); });
  if (latlngs.length === 1) { map.setView(latlngs[0], 17); }
  else if (latlngs.length > 1) { map.fitBounds(L.latLngBounds(latlngs), {padding: [60, 60], maxZoom: 18}); }
  else { map.setView([0, 0], 2); }

  // links, coloured by confidence, with an arrow at the middle showing the direction
  for (var k = 0; k + 1 < latlngs.length; k++) {
    var conf = (lp.link_confidences || [])[k];
    var tip = 'stop ' + (k + 1) + ' \u2192 ' + (k + 2) + ': ' + fmtDist((lp.link_distances_m || [])[k] || 0) +
              ' in ' + fmtGap((lp.link_gaps_s || [])[k] || 0) +
              ((lp.link_speeds_m_s || [])[k] != null ? ', ' + lp.link_speeds_m_s[k].toFixed(2) + ' m/s needed' : '') +
              ', confidence ' + (conf == null ? '?' : conf.toFixed(2));
    L.polyline([latlngs[k], latlngs[k + 1]], {color: colour(conf), weight: 5, opacity: 0.9}).bindTooltip(esc(tip), {sticky: true}).addTo(map);
    var p0 = map.project(latlngs[k]), p1 = map.project(latlngs[k + 1]);
    if (p0.distanceTo(p1) > 1) {
      var ang = Math.atan2(p1.y - p0.y, p1.x - p0.x) * 180 / Math.PI;
      var mid = map.unproject(p0.add(p1).divideBy(2));
      L.marker(mid, {interactive: false, keyboard: false, icon: L.divIcon({className: '', iconSize: [11, 12], iconAnchor: [5.5, 6],
        html: '<div class="vg-arrow" style="border-left-color:' + colour(conf) + ';transform:rotate(' + ang.toFixed(1) + 'deg)"></div>'})}).addTo(map);
    }
  }

  // numbered stops; several at one camera sit side by side
  var atPlace = {}, markers = [];
  stops.forEach(function (f) {
    var key = f.geometry.coordinates.join(',');
    (atPlace[key] = atPlace[key] || []).push(f);
  });
  stops.forEach(function (f, i) {
    var p = f.properties, key = f.geometry.coordinates.join(','), group = atPlace[key], slot = group.indexOf(f);
    var size = 24, dx = (slot - (group.length - 1) / 2) * (size + 2);
    var icon = L.divIcon({className: '', iconSize: [size, size], iconAnchor: [size / 2 - dx, size / 2],
      popupAnchor: [dx, -size / 2], tooltipAnchor: [dx + size / 2, 0],
      html: '<div class="vg-stop' + (p.is_query ? ' query' : '') + '" style="width:' + size + 'px;height:' + size + 'px">' + esc(p.order) + '</div>'});
    var pop = '<div class="vg-popup"><b>' + esc(p.order) + '. track ' + esc(p.track_id) + (p.is_query ? ' (query)' : '') + '</b><br>' +
      'camera ' + esc(p.camera_id) + '<br>' + esc(p.first_seen) + '<br>to ' + esc(p.last_seen) + '<br>' +
      'similarity ' + Number(p.similarity).toFixed(2) + ', confidence ' + Number(p.confidence).toFixed(2) +
      (p.thumbnail_src ? '<img src="' + esc(p.thumbnail_src) + '" alt="best crop">' :
       p.thumbnail_path ? '<br><small>' + esc(p.thumbnail_path) + '</small>' : '') + '</div>';
    var m = L.marker(latlngs[i], {icon: icon, title: 'stop ' + p.order + ' ' + hms(p.first_seen), riseOnHover: true})
      .bindPopup(pop, {maxWidth: 240})
      .bindTooltip(esc(hms(p.first_seen)), {permanent: true, direction: 'right', opacity: 0.85})
      .addTo(map);
    markers.push(m);
  });

  var legend = L.control({position: 'bottomright'});
  legend.onAdd = function () {
    var d = L.DomUtil.create('div', 'legend');
    var grad = STOPS.map(function (s) { return 'rgb(' + s[1].join(',') + ') ' + (s[0] * 100) + '%'; }).join(',');
    d.innerHTML = 'link confidence<div class="bar" style="background:linear-gradient(to right,' + grad + ')"></div>' +
                  '<span style="float:left">0</span><span style="float:right">1</span>';
    return d;
  };
  legend.addTo(map);

  // side panel: the stops in order, the hops between them, what was left out
  var v = TRAIL.vigie || {}, side = document.getElementById('side');
  var h = '<h1>' + esc(OPTIONS.title) + '</h1><div class="meta">' + esc(stops.length) + ' sightings' +
    (stops.length ? ', ' + esc(hms(stops[0].properties.first_seen)) + ' to ' + esc(hms(stops[stops.length - 1].properties.last_seen)) + ' UTC' : '') +
    (v.max_speed_m_s != null ? '<br>speed bound ' + esc(v.max_speed_m_s) + ' m/s, min similarity ' + esc(v.min_similarity) : '') + '</div><ol>';
  stops.forEach(function (f, i) {
    var p = f.properties;
    h += '<li data-i="' + i + '"><span class="num" style="' + (p.is_query ? 'background:#1f5fbf' : '') + '">' + esc(p.order) + '</span>' +
         esc(hms(p.first_seen)) + ' ' + esc(p.camera_id) + ' &middot; track ' + esc(p.track_id) + ' &middot; ' + Number(p.confidence).toFixed(2) + '</li>';
    if (i + 1 < stops.length) {
      var c = (lp.link_confidences || [])[i];
      h += '<div class="hop"><span style="color:' + colour(c) + '">&#9632;</span> ' + esc(fmtDist((lp.link_distances_m || [])[i] || 0)) +
           ', ' + esc(fmtGap((lp.link_gaps_s || [])[i] || 0)) + ', link ' + (c == null ? '?' : c.toFixed(2)) + '</div>';
    }
  });
  h += '</ol>';
  var rej = v.rejected || [];
  if (rej.length) {
    h += '<details><summary>' + rej.length + ' candidates left out</summary>';
    rej.forEach(function (r) {
      h += '<div class="rej">track ' + esc(r.track_id) + ' on ' + esc(r.camera_id) + ' ' + esc(hms(r.first_seen)) +
           ' (' + Number(r.similarity).toFixed(2) + '): ' + esc(r.reason) + '</div>';
    });
    h += '</details>';
  }
  side.innerHTML = h;
  Array.prototype.forEach.call(side.querySelectorAll('li[data-i]'), function (li) {
    li.addEventListener('click', function () { var m = markers[+li.getAttribute('data-i')]; map.panTo(m.getLatLng()); m.openPopup(); });
  });
})();
"""


def _default_title(geojson: dict) -> str:
    v = geojson.get("vigie") or {}
    if "query_track_id" in v:
        return f"Trail of track {v['query_track_id']} ({v.get('class_name', '?')})"
    return "Trail"


def write_trail_map(
    geojson: dict,
    path: Path,
    leaflet_dir: Path | None = None,
    *,
    tile_url: str | None = None,
    tile_attribution: str = "",
    title: str | None = None,
    thumbnail_root: Path | None = None,
    pictures: Callable[[dict], bytes | None] | None = None,
) -> Path:
    """Write the trail as one HTML page that opens from a file with no network.

    leaflet_dir: the folder with leaflet.js and leaflet.css (None: the repo's
    or the working folder's node_modules/leaflet/dist; LeafletMissingError
    with the install command if absent). tile_url: a Leaflet URL template
    such as "https://tiles.example/{z}/{x}/{y}.png"; None draws no tiles.
    thumbnail_root: folder that relative thumbnail paths are read from (None:
    the working folder); readable thumbnails are inlined as data URIs.
    pictures: where given, what each sighting's picture is (a JPEG, from its
    GeoJSON properties), instead of its thumbnail file: `vigie trail --map`
    passes the store's crops, blurred unless a case asked otherwise.
    """
    folder = find_leaflet(leaflet_dir)
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = _inline_css((folder / "leaflet.css").read_text(encoding="utf-8"), folder)
    data = _with_thumbnails(geojson, Path(thumbnail_root) if thumbnail_root is not None else Path.cwd(), pictures)
    title = title or _default_title(geojson)
    options = {
        "tile_url": tile_url,
        "tile_attribution": tile_attribution,
        "title": title,
        "confidence_stops": [[c, list(rgb)] for c, rgb in CONFIDENCE_STOPS],
    }
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>\n{_style_safe(css)}\n</style>",
            f"<style>{_PAGE_CSS}</style>",
            "</head><body>",
            '<div id="map"></div><aside id="side"></aside>',
            f"<script>\n{_script_safe(js)}\n</script>",
            f"<script>\nvar TRAIL = {_json_for_script(data)};\nvar OPTIONS = {_json_for_script(options)};\n{_PAGE_JS}</script>",
            "</body></html>",
            "",
        ]
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


# --- the PNG -------------------------------------------------------------------------

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_INK = (40, 40, 40)
_GREY = (150, 150, 150)


def _ascii(text: str) -> str:
    """Hershey fonts are ASCII only (and have no '#'): strip accents, drop the rest."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return t.replace("#", "")


def _bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return (rgb[2], rgb[1], rgb[0])


def _put(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45, colour=_INK, thick: int = 1) -> None:
    """Text with a white halo, readable over lines."""
    t = _ascii(text)
    cv2.putText(img, t, org, _FONT, scale, (255, 255, 255), thick + 3, cv2.LINE_AA)
    cv2.putText(img, t, org, _FONT, scale, colour, thick, cv2.LINE_AA)


def _text_w(text: str, scale: float = 0.45, thick: int = 1) -> int:
    return cv2.getTextSize(_ascii(text), _FONT, scale, thick)[0][0]


def _nice_length(m: float) -> float:
    """The largest 1, 2 or 5 x 10^k metres not above m: a scale bar's length."""
    if m <= 0:
        return 1.0
    k = 10 ** math.floor(math.log10(m))
    return max(f * k for f in (1, 2, 5) if f * k <= m)


def _fmt_m(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"


def _projection(stops: list[dict], box: tuple[int, int, int, int]):
    """lon/lat -> pixel inside box (x0, y0, x1, y1), north up, same metres per pixel both ways."""
    lats = np.array([s["lat"] for s in stops], float)
    lons = np.array([s["lon"] for s in stops], float)
    lat0, lon0 = float(lats.mean()), float(lons.mean())
    k = math.radians(1) * EARTH_RADIUS_M
    xs = (lons - lon0) * k * math.cos(math.radians(lat0))
    ys = (lats - lat0) * k
    span_x = max(float(np.ptp(xs)), 150.0)
    span_y = max(float(np.ptp(ys)), 150.0)
    x0, y0, x1, y1 = box
    m_per_px = max(span_x / (x1 - x0), span_y / (y1 - y0))
    cx_m, cy_m = (xs.max() + xs.min()) / 2, (ys.max() + ys.min()) / 2
    cx_px, cy_px = (x0 + x1) / 2, (y0 + y1) / 2

    def to_px(lon: float, lat: float) -> tuple[int, int]:
        x = (lon - lon0) * k * math.cos(math.radians(lat0))
        y = (lat - lat0) * k
        return int(round(cx_px + (x - cx_m) / m_per_px)), int(round(cy_px - (y - cy_m) / m_per_px))

    return to_px, m_per_px


def _draw_scale_bar(img: np.ndarray, m_per_px: float, org: tuple[int, int], max_px: int) -> None:
    length = _nice_length(max_px * m_per_px)
    px = int(round(length / m_per_px))
    x, y = org
    cv2.rectangle(img, (x, y - 4), (x + px, y), _INK, -1)
    cv2.rectangle(img, (x + px // 2, y - 4), (x + px, y), (255, 255, 255), -1)
    cv2.rectangle(img, (x, y - 4), (x + px, y), _INK, 1)
    _put(img, "0", (x - 4, y + 16), 0.4)
    _put(img, _fmt_m(length), (x + px - _text_w(_fmt_m(length), 0.4) // 2, y + 16), 0.4)


def _draw_legend(img: np.ndarray, org: tuple[int, int], width: int = 140) -> None:
    x, y = org
    _put(img, "link confidence", (x, y - 8), 0.4)
    for i in range(width):
        cv2.line(img, (x + i, y), (x + i, y + 9), _bgr(confidence_rgb(i / (width - 1))), 1)
    cv2.rectangle(img, (x, y), (x + width, y + 9), _INK, 1)
    _put(img, "0", (x - 3, y + 24), 0.4)
    _put(img, "1", (x + width - 4, y + 24), 0.4)


def _draw_north(img: np.ndarray, org: tuple[int, int]) -> None:
    x, y = org
    cv2.fillPoly(img, [np.array([[x, y - 18], [x - 7, y], [x + 7, y]], np.int32)], _INK, cv2.LINE_AA)
    _put(img, "N", (x - 6, y + 16), 0.5, thick=1)


_R = 11  # radius of a numbered stop, pixels
_PER_ROW = 6  # stops side by side at one camera, then a new row above


def _stop_slots(places: dict[tuple[int, int], list[int]]) -> dict[int, tuple[int, int]]:
    """Where each numbered stop is drawn: above its camera, side by side when a camera is visited again."""
    step = 2 * _R + 3
    slot = {}
    for p, idx in places.items():
        for j, i in enumerate(idx):
            row, col = divmod(j, _PER_ROW)
            in_row = min(_PER_ROW, len(idx) - row * _PER_ROW)
            slot[i] = (int(p[0] + (col - (in_row - 1) / 2) * step), p[1] - _R - 6 - row * step)
    return slot


def _draw_links(img: np.ndarray, pos: list, slot: dict, confs: list) -> None:
    """Each hop coloured by its confidence, with an arrow at its middle; a return to the same camera is a small arc."""
    for k in range(len(pos) - 1):
        c = confs[k] if k < len(confs) and confs[k] is not None else 0.0
        a, b = slot[k], slot[k + 1]
        colour = _bgr(confidence_rgb(c))
        if pos[k] == pos[k + 1] and a[1] == b[1]:
            cv2.ellipse(
                img, ((a[0] + b[0]) // 2, a[1] - _R), (abs(b[0] - a[0]) // 2, 8), 0, 180, 360, colour, 3, cv2.LINE_AA
            )
            continue
        cv2.line(img, a, b, colour, 4, cv2.LINE_AA)
        if pos[k] == pos[k + 1]:
            continue
        d = np.array(b, float) - np.array(a, float)
        d /= max(float(np.linalg.norm(d)), 1e-9)
        mid = (np.array(a, float) + np.array(b, float)) / 2
        tail, tip = mid - 8 * d, mid + 8 * d
        cv2.arrowedLine(
            img, (int(tail[0]), int(tail[1])), (int(tip[0]), int(tip[1])), colour, 3, cv2.LINE_AA, tipLength=1.0
        )


def _draw_labels(img: np.ndarray, stops: list[dict], places: dict[tuple[int, int], list[int]]) -> None:
    """Beside each camera: its id, then one line per stop there (number, time, track, confidence)."""
    h, w = img.shape[:2]
    for p, idx in places.items():
        lines = [stops[idx[0]]["camera_id"]] + [
            f"{stops[i].get('order', i + 1)}  {stops[i]['first_seen'][11:19]}  trk {stops[i]['track_id']}  p {stops[i].get('confidence', 0):.2f}"
            for i in idx
        ]
        width = max(_text_w(t, 0.42) for t in lines)
        x = p[0] + 14 if p[0] + 14 + width < w - 8 else p[0] - 14 - width
        y = p[1] + 18
        if y + 16 * (len(lines) - 1) > h - 62:  # would run into the scale bar and legend: above the stops instead
            y = p[1] - 2 * _R - 16 - 16 * (len(lines) - 1)
        for j, t in enumerate(lines):
            _put(img, t, (x, y + 16 * j), 0.42, _INK if j == 0 else (70, 70, 70), 1)


def _draw_stops(img: np.ndarray, stops: list[dict], slot: dict) -> None:
    """Numbered discs, the query's blue."""
    for i, s in enumerate(stops):
        c = slot[i]
        cv2.circle(img, c, _R, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, c, _R - 2, (191, 95, 31) if s.get("is_query") else (51, 51, 51), -1, cv2.LINE_AA)
        n = str(s.get("order", i + 1))
        cv2.putText(img, n, (c[0] - _text_w(n, 0.45) // 2, c[1] + 5), _FONT, 0.45, (255, 255, 255), 1, cv2.LINE_AA)


def render_trail_png(geojson: dict, path: Path, size: tuple[int, int] = (900, 700)) -> Path:
    """Draw the trail to a PNG with OpenCV alone: cameras, coloured links, numbered stops, times, scale bar."""
    w, h = size
    if w < 300 or h < 240:
        raise ValueError(_("size {size} is too small for a trail picture (at least 300 x 240)", size=size))
    img = np.full((h, w, 3), 255, np.uint8)
    stops = _stops(geojson)
    lp = _line_props(geojson)
    title = _default_title(geojson)
    if stops:
        title += f": {len(stops)} sightings, {stops[0]['first_seen'][11:19]} to {stops[-1]['last_seen'][11:19]} UTC"
    _put(img, title, (14, 26), 0.55, thick=1)
    v = geojson.get("vigie") or {}
    if "max_speed_m_s" in v:
        _put(
            img,
            f"speed bound {v['max_speed_m_s']:g} m/s straight-line, {len(v.get('rejected', []))} candidates left out",
            (14, 46),
            0.42,
            _GREY,
        )
    cv2.line(img, (0, 56), (w, 56), (220, 220, 220), 1)
    if not stops:
        _put(img, "no sightings", (w // 2 - 50, h // 2), 0.6)
        return _write_png(img, path)

    label_room = 190  # each camera's label sits beside it
    box = (40 + label_room // 2, 100, w - 40 - label_room // 2, h - 130)
    to_px, m_per_px = _projection(stops, box)
    pos = [to_px(s["lon"], s["lat"]) for s in stops]
    places: dict[tuple[int, int], list[int]] = {}
    for i, p in enumerate(pos):
        places.setdefault(p, []).append(i)
    slot = _stop_slots(places)
    for p in places:  # the cameras visited: a grey square at each mount
        cv2.rectangle(img, (p[0] - 4, p[1] - 4), (p[0] + 4, p[1] + 4), (90, 90, 90), -1)
    _draw_links(img, pos, slot, lp.get("link_confidences") or [])
    _draw_labels(img, stops, places)
    _draw_stops(img, stops, slot)  # last, over lines and labels
    _draw_scale_bar(img, m_per_px, (24, h - 30), max_px=w // 4)
    _draw_legend(img, (w - 170, h - 40))
    _draw_north(img, (w - 30, 92))
    return _write_png(img, path)


def _write_png(img: np.ndarray, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise OSError(_("could not encode the trail picture for {path}", path=path))
    path.write_bytes(buf.tobytes())
    return path

"""vigie.search.trail and trail_map: a physically possible path across the cameras.

Camera layouts are at real Nimes coordinates (the demo site's), plus points
placed a known distance north of the esplanade, so that speeds are easy to
reason about: one degree of latitude is 111.195 km.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from vigie.errors import VigieError
from vigie.search.trail import (
    DEFAULT_MAX_SPEED_M_S,
    Sighting,
    build_trail,
    haversine_m,
    link_confidence,
    match_probability,
    speed_comfort,
    trail_geojson,
)
from vigie.search.trail_map import (
    LeafletMissingError,
    confidence_rgb,
    find_leaflet,
    render_trail_png,
    write_trail_map,
)

T0 = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
ESPLANADE = (43.83305, 4.35905)
ARENES = (43.83487, 4.35971)  # ~209 m from the esplanade
GARE = (43.83264, 4.36626)  # ~580 m from the arenes
M_PER_DEG_LAT = 111_194.9


def north_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point `metres` due north of origin."""
    return (origin[0] + metres / M_PER_DEG_LAT, origin[1])


def sighting(
    track_id: int,
    place: tuple[float, float],
    start_s: float,
    duration_s: float = 10.0,
    similarity: float = 0.9,
    camera: str | None = None,
    class_name: str = "person",
    **kw,
) -> Sighting:
    return Sighting(
        track_id=track_id,
        camera_id=camera or f"cam-{place[0]:.5f}-{place[1]:.5f}",
        lat=place[0],
        lon=place[1],
        first_seen=T0 + timedelta(seconds=start_s),
        last_seen=T0 + timedelta(seconds=start_s + duration_s),
        similarity=similarity,
        class_name=class_name,
        **kw,
    )


def query_at(place=ESPLANADE, start_s: float = 0.0, **kw) -> Sighting:
    return sighting(1, place, start_s, similarity=1.0, camera="esplanade", **kw)


def ids(trail) -> list[int]:
    return [s.track_id for s in trail.sightings]


def rejection(trail, track_id: int):
    (r,) = [r for r in trail.rejected if r.sighting.track_id == track_id]
    return r


# --- geometry -------------------------------------------------------------------------


def test_haversine_matches_known_distances():
    assert haversine_m(43.0, 4.0, 44.0, 4.0) == pytest.approx(M_PER_DEG_LAT, rel=1e-4)
    assert haversine_m(*ESPLANADE, *ARENES) == pytest.approx(209, abs=3)
    assert haversine_m(*ESPLANADE, *north_of(ESPLANADE, 2000)) == pytest.approx(2000, rel=1e-4)


# --- the speed bound --------------------------------------------------------------------


def test_two_km_in_sixty_seconds_is_rejected_on_foot_with_the_numbers():
    far = north_of(ESPLANADE, 2000)
    trail = build_trail(query_at(), [sighting(2, far, start_s=10 + 60, similarity=0.95, camera="far")])
    assert ids(trail) == [1]
    r = rejection(trail, 2)
    assert r.code == "too_fast"
    # (2000 m - 2 x 30 m of camera view) / 60 s = 32.3 m/s
    assert r.reason.startswith("too far from track 1 on esplanade: 2.00 km in 60 s needs 32.3 m/s > 3.0 m/s")


def test_two_km_in_thirty_minutes_is_a_walk():
    far = north_of(ESPLANADE, 2000)
    trail = build_trail(query_at(), [sighting(2, far, start_s=10 + 1800, similarity=0.95, camera="far")])
    assert ids(trail) == [1, 2]
    assert trail.rejected == ()
    (link,) = trail.links
    assert (link.from_index, link.to_index, link.from_track_id, link.to_track_id) == (0, 1, 1, 2)
    assert link.distance_m == pytest.approx(2000, rel=1e-3)
    assert link.gap_s == pytest.approx(1800)
    assert link.speed_m_s == pytest.approx((2000 - 60) / 1800, rel=1e-3)
    assert 0.0 < link.confidence <= 1.0


def test_default_bounds_by_class_and_an_explicit_bound():
    assert DEFAULT_MAX_SPEED_M_S["person"] == 3.0 and DEFAULT_MAX_SPEED_M_S["car"] == 25.0
    far = north_of(ESPLANADE, 2000)
    # 1940 m of travel in 120 s is 16 m/s: a car in town, not a pedestrian
    car = build_trail(query_at(class_name="car"), [sighting(2, far, 130, class_name="car", camera="far")])
    walker = build_trail(query_at(), [sighting(2, far, 130, camera="far")])
    assert ids(car) == [1, 2] and car.max_speed_m_s == 25.0
    assert ids(walker) == [1] and walker.max_speed_m_s == 3.0
    assert ids(build_trail(query_at(), [sighting(2, far, 130, camera="far")], max_speed_m_s=20.0)) == [1, 2]


def test_nearby_cameras_share_their_view_so_a_short_hop_is_free():
    near = north_of(ESPLANADE, 40)  # within 2 x 30 m: the cameras may see the same spot
    trail = build_trail(query_at(), [sighting(2, near, start_s=10.5, camera="near")])
    assert ids(trail) == [1, 2]
    assert trail.links[0].speed_m_s == 0.0


# --- time ---------------------------------------------------------------------------------


def test_trail_is_in_time_order_whatever_the_candidates_order():
    cands = [
        sighting(4, GARE, start_s=900, camera="gare"),
        sighting(2, ARENES, start_s=-600, camera="arenes"),  # before the query
        sighting(3, ARENES, start_s=300, camera="arenes"),
    ]
    trail = build_trail(query_at(), cands)
    assert ids(trail) == [2, 1, 3, 4]
    assert trail.query_index == 1 and trail.query.track_id == 1
    starts = [s.first_seen for s in trail.sightings]
    assert starts == sorted(starts)
    assert all(link.gap_s >= 0 for link in trail.links)


def test_overlapping_sightings_on_far_cameras_are_incompatible():
    gare = sighting(2, GARE, start_s=5, similarity=0.95, camera="gare")  # during the query, 690 m away
    beside = sighting(3, north_of(ESPLANADE, 20), start_s=5, camera="beside")  # during the query, 20 m away
    trail = build_trail(query_at(), [gare, beside])
    assert ids(trail) == [1, 3]
    assert trail.links[0].gap_s < 0 and trail.links[0].speed_m_s == 0.0
    r = rejection(trail, 2)
    assert r.code == "overlap"
    assert r.reason.startswith("seen at the same time as track ") and " m apart, overlapping by " in r.reason


def test_one_camera_twice_is_fine_in_turn_but_not_at_once():
    again = sighting(2, ESPLANADE, start_s=60, camera="esplanade")
    at_once = sighting(3, ESPLANADE, start_s=5, camera="esplanade")
    trail = build_trail(query_at(), [again, at_once])
    assert ids(trail) == [1, 2]
    assert trail.links[0].distance_m == 0.0 and trail.links[0].speed_m_s == 0.0
    assert rejection(trail, 3).code == "same_camera_overlap"


# --- choosing the chain ---------------------------------------------------------------------


def rival_layout(far_similarity: float, chain_similarity: float) -> list[Sighting]:
    """A look-alike 2 km north, reachable from the query (990 s at 2 m/s), and two
    near ones after it that it cannot reach in time: the query goes with one or the other."""
    return [
        sighting(9, north_of(ESPLANADE, 2000), start_s=1000, similarity=far_similarity, camera="far"),
        sighting(2, ARENES, start_s=1100, similarity=chain_similarity, camera="arenes"),
        sighting(3, GARE, start_s=1500, similarity=chain_similarity, camera="gare"),
    ]


def test_consistent_chain_beats_a_better_looking_impossible_sighting():
    far, b, c = rival_layout(0.92, 0.85)
    assert ids(build_trail(query_at(), [far])) == [1, 9]  # possible on its own
    trail = build_trail(query_at(), [far, b, c])
    assert far.similarity > max(b.similarity, c.similarity)  # ranking alone would pick it
    assert ids(trail) == [1, 2, 3]
    r = rejection(trail, 9)
    assert r.code == "too_fast" and r.reason.startswith("too far from track 2 on arenes: 1.8")


def test_evidence_is_summed_as_log_odds_so_one_near_certain_match_can_win():
    """The objective is the joint odds, not the count of sightings."""
    trail = build_trail(query_at(), rival_layout(0.99, 0.80))
    assert ids(trail) == [1, 9]
    assert {r.sighting.track_id: r.code for r in trail.rejected} == {2: "too_fast", 3: "too_fast"}


def test_below_threshold_candidates_are_dropped_with_their_similarity():
    weak = sighting(2, ARENES, start_s=300, similarity=0.62, camera="arenes")
    trail = build_trail(query_at(), [weak])
    assert ids(trail) == [1]
    r = rejection(trail, 2)
    assert r.code == "below_threshold" and r.reason == "similarity 0.62 < 0.75"
    strict = build_trail(query_at(), [sighting(3, ARENES, 300, similarity=0.78, camera="arenes")], min_similarity=0.8)
    assert ids(strict) == [1] and strict.rejected[0].code == "below_threshold"


def test_query_is_always_on_the_trail():
    assert ids(build_trail(query_at(), [])) == [1]
    # three strong look-alikes, consistent with each other, all impossible with the query
    far = north_of(ESPLANADE, 3000)
    others = [sighting(10 + k, far, start_s=5 + 100 * k, similarity=0.97, camera="far") for k in range(3)]
    trail = build_trail(query_at(), others)
    assert ids(trail) == [1]
    assert trail.links == () and trail.confidences == (1.0,)
    assert {r.code for r in trail.rejected} == {"overlap", "too_fast"}


def test_other_classes_and_the_query_itself_are_left_out():
    trail = build_trail(query_at(), [query_at(), sighting(2, ARENES, 300, class_name="car", camera="arenes")])
    assert ids(trail) == [1]
    assert {r.code for r in trail.rejected} == {"query", "class"}


def test_times_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        Sighting(1, "c", 43.8, 4.3, datetime(2026, 1, 1), datetime(2026, 1, 1), 1.0)
    with pytest.raises(ValueError, match="before first_seen"):
        Sighting(1, "c", 43.8, 4.3, T0, T0 - timedelta(seconds=1), 1.0)


# --- confidences --------------------------------------------------------------------------------


def test_confidences_follow_the_documented_formulas():
    assert match_probability(0.75) == pytest.approx(0.5)
    assert match_probability(0.85) > 0.9 > 0.3 > match_probability(0.71)
    assert speed_comfort(0.0, 3.0) == 1.0 and speed_comfort(3.0, 3.0) == 0.5 and speed_comfort(3.1, 3.0) == 0.0

    b = sighting(2, ARENES, start_s=110, similarity=0.85, camera="arenes")
    trail = build_trail(query_at(), [b])
    p = match_probability(0.85)
    assert trail.confidences == (1.0, pytest.approx(p))
    link = trail.links[0]
    v = (haversine_m(*ESPLANADE, *ARENES) - 60) / 100
    assert link.speed_m_s == pytest.approx(v)
    assert link.confidence == pytest.approx(1.0 * p * (1 - 0.5 * (v / 3.0) ** 2))
    assert link.confidence == pytest.approx(link_confidence(1.0, p, v, 3.0))
    # the same hop made in more time is more comfortable
    slow = build_trail(query_at(), [sighting(2, ARENES, 1000, similarity=0.85, camera="arenes")])
    assert slow.links[0].confidence > link.confidence


# --- GeoJSON ------------------------------------------------------------------------------------


def three_stop_trail(thumbnail: str | None = None):
    cands = [
        sighting(2, ARENES, 200, similarity=0.88, camera="arenes", thumbnail_path=thumbnail),
        sighting(3, GARE, 600, similarity=0.8, camera="gare"),
    ]
    return build_trail(query_at(), cands)


def test_geojson_is_rfc7946_lon_lat_with_times_in_order():
    trail = three_stop_trail()
    g = json.loads(json.dumps(trail_geojson(trail)))
    assert g["type"] == "FeatureCollection"
    line, *points = g["features"]
    assert all(f["type"] == "Feature" for f in g["features"])
    assert line["geometry"]["type"] == "LineString"
    assert line["geometry"]["coordinates"][0] == [ESPLANADE[1], ESPLANADE[0]]  # [lon, lat]
    assert line["geometry"]["coordinates"][2] == [GARE[1], GARE[0]]
    props = line["properties"]
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in props["times"]]
    assert times == sorted(times) and times[0] == T0 and props["times"][0].endswith("Z")
    assert props["track_ids"] == [1, 2, 3]
    assert len(props["link_confidences"]) == 2
    assert props["link_confidences"] == [pytest.approx(link.confidence, abs=1e-4) for link in trail.links]

    assert [p["geometry"]["type"] for p in points] == ["Point"] * 3
    assert [p["properties"]["order"] for p in points] == [1, 2, 3]
    first = points[0]["properties"]
    assert {
        "track_id",
        "camera_id",
        "first_seen",
        "last_seen",
        "similarity",
        "confidence",
        "thumbnail_path",
        "order",
    } <= first.keys()
    assert first["track_id"] == 1 and first["is_query"] and first["confidence"] == 1.0
    assert points[1]["geometry"]["coordinates"] == [ARENES[1], ARENES[0]]


def test_geojson_of_a_lone_sighting_has_no_line():
    g = trail_geojson(build_trail(query_at(), []))
    assert [f["geometry"]["type"] for f in g["features"]] == ["Point"]


def test_geojson_carries_the_rejections():
    far = sighting(9, north_of(ESPLANADE, 2000), start_s=70, camera="far")
    g = trail_geojson(build_trail(query_at(), [far]))
    (r,) = g["vigie"]["rejected"]
    assert r["track_id"] == 9 and r["code"] == "too_fast" and "too far" in r["reason"]
    json.dumps(g)


# --- the HTML map ---------------------------------------------------------------------------------

FAKE_LEAFLET_JS = "/* fake leaflet for tests */ window.L = {version: 'fake-1.9'};"


@pytest.fixture()
def fake_leaflet(tmp_path) -> Path:
    d = tmp_path / "leaflet" / "dist"
    (d / "images").mkdir(parents=True)
    (d / "leaflet.js").write_text(FAKE_LEAFLET_JS, encoding="utf-8")
    (d / "leaflet.css").write_text(
        ".leaflet-control-layers-toggle{background-image:url(images/layers.png)}", encoding="utf-8"
    )
    (d / "images" / "layers.png").write_bytes(cv2.imencode(".png", np.zeros((2, 2, 3), np.uint8))[1].tobytes())
    return d


def test_map_page_inlines_leaflet_the_data_and_the_thumbnails(tmp_path, fake_leaflet):
    thumb = tmp_path / "thumbs" / "2.jpg"
    thumb.parent.mkdir()
    thumb.write_bytes(cv2.imencode(".jpg", np.full((24, 12, 3), 200, np.uint8))[1].tobytes())
    g = trail_geojson(three_stop_trail(thumbnail="thumbs/2.jpg"))
    out = write_trail_map(g, tmp_path / "out" / "trail.html", fake_leaflet, thumbnail_root=tmp_path)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert FAKE_LEAFLET_JS in page
    assert "url(data:image/png;base64," in page and "url(images/" not in page
    assert '"camera_id": "arenes"' in page and '"track_ids": [1, 2, 3]' in page
    assert "data:image/jpeg;base64," in page
    assert '"tile_url": null' in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "<script src" not in page


def test_map_page_takes_a_tile_server(tmp_path, fake_leaflet):
    url = "https://tiles.city.example/{z}/{x}/{y}.png"
    page = write_trail_map(
        trail_geojson(three_stop_trail()), tmp_path / "t.html", fake_leaflet, tile_url=url
    ).read_text()
    assert json.dumps(url) in page


def test_map_page_data_cannot_break_out_of_its_script(tmp_path, fake_leaflet):
    q = Sighting(1, "</script><img src=x onerror=alert(1)>", *ESPLANADE, T0, T0 + timedelta(seconds=5), 1.0)
    page = write_trail_map(trail_geojson(build_trail(q, [])), tmp_path / "t.html", fake_leaflet).read_text()
    assert "</script><img" not in page and "<img src=x" not in page
    assert page.count("</script>") == 2  # leaflet's and the page's own


def test_missing_leaflet_names_the_install_command(tmp_path):
    with pytest.raises(LeafletMissingError, match=r"npm install leaflet@1\.9") as err:
        write_trail_map(trail_geojson(three_stop_trail()), tmp_path / "t.html", tmp_path / "nowhere")
    assert isinstance(err.value, VigieError)
    assert not (tmp_path / "t.html").exists()


def _real_leaflet() -> Path:
    try:
        return find_leaflet()
    except LeafletMissingError:
        pytest.skip("npm package leaflet not installed (npm install)")


def test_map_page_with_the_real_leaflet_is_valid_javascript(tmp_path):
    folder = _real_leaflet()
    page = write_trail_map(trail_geojson(three_stop_trail()), tmp_path / "t.html").read_text(encoding="utf-8")
    assert "Leaflet 1.9" in page and (folder / "leaflet.js").read_text(encoding="utf-8")[:200] in page
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found: the page's script is not syntax-checked")
    for k, script in enumerate(page.split("<script>")[1:]):
        src = tmp_path / f"s{k}.js"
        src.write_text(script.split("</script>")[0], encoding="utf-8")
        done = subprocess.run([node, "--check", str(src)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr


# --- the PNG --------------------------------------------------------------------------------------


def test_png_is_written_and_shows_the_trail(tmp_path):
    g = trail_geojson(three_stop_trail())
    out = render_trail_png(g, tmp_path / "sub" / "trail.png")
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (700, 900, 3)
    # the first link is confident: its colour is on the picture
    rgb = confidence_rgb(g["features"][0]["properties"]["link_confidences"][0])
    bgr = np.array(rgb[::-1])
    assert (np.abs(img.astype(int) - bgr).sum(axis=2) < 30).sum() > 100
    assert (img < 100).all(axis=2).sum() > 500  # dark ink: numbers, labels, scale bar


def test_png_of_a_lone_sighting_and_a_custom_size(tmp_path):
    out = render_trail_png(trail_geojson(build_trail(query_at(), [])), tmp_path / "one.png", size=(400, 300))
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (300, 400, 3) and (img < 100).any()


def test_confidence_colours_run_from_red_to_green():
    red, amber, green = confidence_rgb(0.0), confidence_rgb(0.5), confidence_rgb(1.0)
    assert red[0] > red[1] and green[1] > green[0]
    assert confidence_rgb(-1) == red and confidence_rgb(2) == green and amber != red
    assert math.isclose(sum(confidence_rgb(0.25)), sum(red) / 2 + sum(amber) / 2, abs_tol=3)

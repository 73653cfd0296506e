"""The investigator's task of issue 20, scripted in a real browser: what bench/investigator_task.py measures
before and after issue 20's work, and what tests/web/test_investigator_task_ui.py guards.

The task, on the demo's footage (a witness saw a man in a red top near the esplanade, around 14:00 Paris time
on 20/11/2026): log in, search for him (class, upper colour, time, camera), open his track, play its clip,
find similar people, see his trail, export his two sightings (the track and its best look-alike, the same
man on the Arènes camera) for the case, and place a legal hold on the track.

Each flow is the shortest path a user takes in that UI; the scripted user acts without think time, so the
seconds are the app's own waiting (pages, searches, the clip's first frame, the exports). Counted as clicks:
every click, key press, option chosen and browser Back; as fields: every text field the user types into (and
the characters typed; in a date-time picker the digits).

- before (commit 3ea3f7f, English only): the case reference and purpose are typed in the search form and kept
  for the tab only (so everything happens in one tab); cameras are typed by id ("nimes-esplanade-01"); the
  times in the browser's date-time pickers; an export covers one track, so the look-alike is opened from the
  trail's list of sightings and exported, then Back and "Back to the track" to export the track and hold it.
- after (issue 20): the case is opened once, in the banner every page shows; cameras by name ("esplanade");
  times typed as the site's clock reads them ("20/11/2026 13:45"); the track and its look-alike are marked
  "same person" beside the similar results; the case page exports both (clips, trail, evidence sheet) as one
  job; its list of marks leads back to the track for the hold.

Only Playwright and the standard library: the bench imports this module beside a server of another checkout.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# The witness's account and the case, as the investigator types them.
ACCOUNT = ("inv", "investigator-pass-1")
CASE_REF = "PV-2026-1120-041"
PURPOSE = "Témoin : homme au haut rouge près de la fontaine de l'esplanade"
HOLD_REASON = "Plainte n° 2026/1120/41"
STEPS = (
    "log in",
    "open the case",
    "search",
    "open the track",
    "play the clip",
    "find similar",
    "see the trail",
    "export",
    "place a hold",
)
# The "after" flow's clicks, step by step as bench/investigator_task.py counts them (docs/BENCHMARKS.md §31: 1 + 1
# + 4 + 1 + 1 + 3 + 1 + 3 + 2): the browser test fails if the task ever needs more.
AFTER_CLICKS = 17
SLOW_MS = 900_000  # an export renders and blurs the clips: minutes on a shared, loaded machine
VERBOSE = False  # the bench sets it: each step is printed as it ends (a partial run still says something)
CLIP_MS = SLOW_MS  # before issue 21 the whole clip is rendered and blurred before it plays


@dataclass
class Step:
    name: str
    clicks: int = 0
    fields: int = 0
    chars: int = 0
    seconds: float = 0.0


@dataclass
class Run:
    """One run of the task: its steps, in order, with what the user did and how long the app took."""

    version: str
    steps: list[Step] = field(default_factory=list)
    track: int = 0  # the witness's man, as the search's first card gave him
    lookalike: int = 0  # his best look-alike, as "find similar" ranked it first

    def total(self, attr: str) -> float:
        return sum(getattr(s, attr) for s in self.steps)


class User:
    """A scripted user on a Playwright page: each action is counted in the current step."""

    def __init__(self, page, run: Run, shot: Callable[[object, str], None] | None = None):
        self.page, self.run, self._shot = page, run, shot
        self.step: Step | None = None
        self._t0 = 0.0

    def begin(self, name: str) -> None:
        self.end()
        self.step = Step(name)
        self._t0 = time.monotonic()

    def end(self) -> None:
        if self.step is not None:
            self.step.seconds = time.monotonic() - self._t0
            self.run.steps.append(self.step)
            if VERBOSE:
                s = self.step
                print(
                    f"  {self.run.version}: {s.name}: {s.clicks} clicks, {s.fields} fields, {s.seconds:.2f} s",
                    flush=True,
                )
            self.step = None

    def click(self, selector: str) -> None:
        self.step.clicks += 1
        self.page.click(selector)

    def select(self, selector: str, value: str) -> None:
        self.step.clicks += 1  # the list opened and the option chosen: one choice
        self.page.select_option(selector, value)

    def back(self) -> None:
        self.step.clicks += 1
        self.page.go_back()

    def type(self, selector: str, text: str, typed: int | None = None) -> None:
        self.step.fields += 1
        self.step.chars += len(text) if typed is None else typed
        self.page.fill(selector, text)

    def shot(self, name: str, top: str | None = None) -> None:
        """A screenshot, outside the step's clock; `top`: the element scrolled to the top of the view first."""
        if self._shot:
            t = time.monotonic()
            if top:
                self.page.locator(top).evaluate("(e) => e.scrollIntoView({block: 'start'})")
            self._shot(self.page, name)
            self._t0 += time.monotonic() - t


# --- what both flows wait for (the app's own time) -------------------------------------------------------------
def _wait_results(page, grid: str = "#results") -> None:
    page.wait_for_selector(f"{grid} a.card", timeout=SLOW_MS)


def _wait_first_frame(page) -> None:
    try:
        page.wait_for_function(
            "() => { const v = document.getElementById('clip'); return v.readyState >= 2 && v.videoWidth > 0; }",
            timeout=CLIP_MS,
        )
    except Exception as exc:  # say what the page shows rather than only "timeout"
        state = page.evaluate(
            """() => { const v = document.getElementById('clip');
                       return {src: v.getAttribute('src'), ready: v.readyState, error: v.error && v.error.code,
                               status: document.getElementById('clip-status').textContent,
                               page_error: document.getElementById('error').textContent}; }"""
        )
        raise AssertionError(f"the clip's first frame did not come: {state}") from exc


def _wait_trail(page, lookalike: int) -> None:
    page.wait_for_selector(f'#sightings a[href="/track/{lookalike}"]', timeout=SLOW_MS)
    page.wait_for_selector("#map .leaflet-marker-icon.numbered")


def _card_track(page, nth: int = 0) -> int:
    href = page.locator("#results a.card").nth(nth).get_attribute("href")
    return int(href.rsplit("/", 1)[1])


def _track_page(page, track: int) -> None:
    page.wait_for_url(re.compile(rf"/track/{track}$"))
    page.wait_for_selector("#attrs tr")


def _no_error(page) -> None:
    error = page.locator("#error").inner_text().strip()
    assert not error, f"{page.url}: {error}"


def _log_in(u: User) -> None:
    page = u.page
    u.begin("log in")
    page.goto("/")
    u.type("#username", ACCOUNT[0])
    u.type("#password", ACCOUNT[1])
    u.click("#login-form button[type=submit]")
    page.wait_for_url("**/map")
    page.wait_for_selector("#who:not(:empty)")


def _search(u: User, case_in_form: bool, start: str, end: str, camera: str, typed: int | None) -> None:
    page = u.page
    u.begin("search")
    u.click('nav a[href="/search"]')
    page.wait_for_selector("#upper option[value=red]", state="attached")
    u.select("#class", "person")
    u.select("#upper", "red")
    u.type("#start", start, typed)
    u.type("#end", end, typed)
    u.type("#cameras", camera)
    if case_in_form:
        u.type("#case_ref", CASE_REF)
        u.type("#purpose", PURPOSE)
    u.click("#search-form button[type=submit]")
    _wait_results(page)
    _no_error(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#results a.card img')].every((i) => i.complete)", timeout=SLOW_MS
    )
    u.run.track = _card_track(page)
    u.shot("1-search", "#search-form button[type=submit]")


def _open_track_and_play(u: User) -> None:
    page = u.page
    u.begin("open the track")
    u.click("#results a.card >> nth=0")
    _track_page(page, u.run.track)
    u.begin("play the clip")
    u.click("#load-clip")
    _wait_first_frame(page)
    u.shot("2-clip")


def _similar(u: User) -> None:
    page = u.page
    u.begin("find similar")
    u.click("#similar")
    _wait_results(page)
    _no_error(page)
    u.run.lookalike = _card_track(page)


def _place_hold(u: User) -> None:
    u.type("#hold-reason", HOLD_REASON)
    with u.page.expect_response(lambda r: r.url.endswith("/api/holds") and r.request.method == "POST") as got:
        u.click("#hold-form button[type=submit]")
    assert got.value.ok, f"the hold was refused: HTTP {got.value.status}"
    u.page.wait_for_function("() => document.getElementById('case-msg').textContent.trim() !== ''")


# --- before: commit 3ea3f7f --------------------------------------------------------------------------------------
def before(page, shot=None) -> Run:
    """The task in the English-only UI of commit 3ea3f7f (see the module's docstring)."""
    run = Run("before")
    u = User(page, run, shot)
    _log_in(u)
    # the browser's date-time picker: the user types the digits, dd mm yyyy hh mm
    _search(u, True, "2026-11-20T13:45", "2026-11-20T14:15", "nimes-esplanade-01", typed=12)
    _open_track_and_play(u)
    _similar(u)
    u.begin("see the trail")
    u.click("#trail-link")
    _wait_trail(page, run.lookalike)
    _no_error(page)
    u.begin("export")
    for track, leave in ((run.lookalike, f'#sightings a[href="/track/{run.lookalike}"]'), (run.track, "#back")):
        if track == run.track:
            u.back()  # from the look-alike to the trail
            page.wait_for_selector(f'#sightings a[href="/track/{run.lookalike}"]', timeout=SLOW_MS)
        u.click(leave)
        _track_page(page, track)
        with page.expect_download(timeout=SLOW_MS):
            u.click("#export-form button[type=submit]")
        page.wait_for_function("() => document.getElementById('case-msg').textContent.includes('SHA-256')")
    _no_error(page)
    u.begin("place a hold")
    _place_hold(u)
    _no_error(page)
    u.end()
    return run


# --- after: issue 20 ---------------------------------------------------------------------------------------------
def after(page, shot=None) -> Run:
    """The task in issue 20's UI (see the module's docstring); `shot(page, name)` saves its key steps."""
    run = Run("after")
    u = User(page, run, shot)
    _log_in(u)
    u.begin("open the case")
    u.type("#case-open-ref", CASE_REF)
    u.type("#case-open-purpose", PURPOSE)
    u.click("#case-open-form button[type=submit]")
    page.wait_for_selector("#case-current")
    _search(u, False, "20/11/2026 13:45", "20/11/2026 14:15", "esplanade", typed=None)
    _open_track_and_play(u)
    _similar(u)
    for where in ("#track-case", f'#similar-marks p:has(a[href="/track/{run.lookalike}"])'):
        with page.expect_response(lambda r: "/marks/" in r.url and r.request.method == "PUT") as got:
            u.click(f"{where} .mark-same")
        assert got.value.ok, f"marking in {where}: HTTP {got.value.status}"
    u.shot("3-similar", "#similar")
    u.begin("see the trail")
    u.click("#trail-link")
    _wait_trail(page, run.lookalike)
    _no_error(page)
    u.shot("4-trail", "#reload")
    u.begin("export")
    u.click("#case-page-link")
    page.wait_for_selector(f'#case-marks a[href="/track/{run.lookalike}"]')
    u.click("#export-same")
    # the job ends with its download link, or with its reason in the status line (the button is then enabled)
    page.wait_for_function(
        "() => document.getElementById('export-download') || !document.getElementById('export-same').disabled",
        timeout=SLOW_MS,
    )
    if not page.locator("#export-download").count():
        raise AssertionError(f"the export did not end with a download: {page.locator('#export-status').inner_text()}")
    with page.expect_download(timeout=SLOW_MS):
        u.click("#export-download")
    page.wait_for_function("() => document.getElementById('export-status').textContent.includes('SHA-256')")
    _no_error(page)
    u.shot("5-export")
    u.begin("place a hold")
    u.click(f'#case-marks a[href="/track/{run.track}"]')
    _track_page(page, run.track)
    _place_hold(u)
    _no_error(page)
    u.end()
    if shot:  # the hold, listed on the track page (a reload: not the user's, not timed)
        page.reload()
        page.wait_for_selector("#track-case table.holds")
        page.locator("#investigate").scroll_into_view_if_needed()
        shot(page, "6-hold")
    return run


FLOWS = {"before": before, "after": after}

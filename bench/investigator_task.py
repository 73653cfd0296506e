"""The investigator's task of issue 20, before and after, counted in clicks, fields typed and seconds.

    git worktree add /tmp/wt-before 3ea3f7f          # once: the code before issue 20's work
    python bench/investigator_task.py [--before /tmp/wt-before] [--after .] [--shots]

The task (tests/web/investigator_flow.py, which the browser test shares): a witness saw a man in a red top near
the esplanade around 14:00 (Paris time) on 20/11/2026; the investigator logs in, searches for him (class,
upper colour, time, camera), opens his track, plays its clip, finds similar people, sees his trail, exports
his two sightings (the track and its best look-alike, the same man on the Arènes camera) and places a legal
hold on the track. How each step is done in each UI:

  step            before (3ea3f7f, English only)                     after (issue 20, French)
  log in          user, password, Log in                             the same
  open the case   (none: typed in the search form, kept in the tab)  reference and purpose in the banner, Open
  search          nav Search; class, colour; From/To in the date     nav Search; class, colour; From/To typed
                  pickers; camera id "nimes-esplanade-01"; case      "20/11/2026 13:45"; camera "esplanade";
                  reference and purpose; Search                      Search
  open the track  the first card                                     the same
  play the clip   Load the clip, until its first frame               the same
  find similar    Find similar                                       Find similar; "Same person" on the track
                                                                     and on its first look-alike
  see the trail   Trail, until the sightings and markers show        the same
  export          the look-alike from the trail's list, Export;      Case page (banner); Export the tracks
                  browser Back, "Back to the track", Export          marked as the same person; Download
                  (one ZIP per track)                                (one ZIP: clips, trail, evidence sheet)
  place a hold    reason, Keep past retention                        the track from the case page's marks;
                                                                     reason, Keep past retention

Counted as clicks: every click, key press, option chosen and browser Back; as fields: each text field typed
into (and its characters; the digits in a date-time picker). The scripted user has no think time: the seconds
are the app's own waiting (page loads, the search, the clip's first frame, the exports), wall clock per step.

Each checkout is run as it would be deployed: its own code (PYTHONPATH), its own analysis of the demo's footage
(PETS09 cut in two cameras, `vigie analyze` twice then `vigie adapt`, as tests/conftest.py's analysed_demo and
tests/web/test_ui.py build it; about 2 minutes per checkout, cached under --cache by the checkout's tree) in a
fresh copy per run, served by uvicorn in a child process with the real Blurrer; Debian's chromium (Playwright)
with the locale fr-FR, the time zone Europe/Paris, 1280x800, and the site's own language (the demo site:
French where the code knows French). --shots saves the "after" run's key steps as
docs/screenshots/investigator-fr-*.png (the README's "En images").
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))

import investigator_flow as flow  # noqa: E402 (after the path above)

CHROMIUM = "/usr/bin/chromium"
PYTHON = sys.executable
MODELS = (ROOT / ".." / "shared" / "models").resolve()
VTEST = (ROOT / ".." / "shared" / "data" / "pets09-s2l1" / "vtest.avi").resolve()
CAMERAS = (("esplanade", "nimes-esplanade-01"), ("arenes", "nimes-arenes-01"))
SHOTS = ROOT / "docs" / "screenshots"
ROLES = {"inv": "investigator"}


# --- the server of one checkout (run in a child process: `--serve`, its vigie from PYTHONPATH) -------------------
def serve(data: Path, port: int, site_file: Path) -> None:
    import uvicorn

    from vigie.accounts import users
    from vigie.config import load_site
    from vigie.privacy.blur import Blurrer
    from vigie.services import Services
    from vigie.store.sqlite import SQLiteStore
    from vigie.web.app import create_app

    store = SQLiteStore(data)
    users.create_user(store, flow.ACCOUNT[0], "investigator", flow.ACCOUNT[1])
    app = create_app(Services(store=store, site=load_site(site_file), blurrer=Blurrer()))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", proxy_headers=False)


def vigie_env(checkout: Path, data: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(checkout), "VIGIE_DATA": str(data), "VIGIE_MODELS": str(MODELS)}


def analysed_demo(checkout: Path, cache: Path) -> Path:
    """The checkout's analysis of the demo's footage, built once per tree of its code and demo site."""
    tree = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD:vigie", "HEAD:examples/nimes-demo.yaml"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    dirty = subprocess.run(
        ["git", "-C", str(checkout), "status", "--porcelain", "vigie", "examples"], capture_output=True, text=True
    ).stdout.strip()
    folder = cache / ("-".join(t[:12] for t in tree) + ("-dirty" if dirty else ""))
    if (folder / "var" / "vigie.db").exists() and not dirty:
        return folder / "var"
    print(f"analysing the demo's footage with {checkout} (about 2 minutes) ...", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    work = folder.with_name(folder.name + ".part")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # the recordings stay where the analysis finds them (the store keeps their paths), beside every version's
    clips = [cache.resolve() / "clips" / f"{name}.mp4" for name, _ in CAMERAS]
    if not all(c.exists() for c in clips):
        clips[0].parent.mkdir(parents=True, exist_ok=True)
        split = checkout / "examples" / "split_recording.py"
        subprocess.run([PYTHON, str(split), str(VTEST), *map(str, clips)], check=True, env=vigie_env(checkout, work))
    # run from the checkout: `python -m` puts the working directory first on sys.path, before PYTHONPATH
    site = checkout / "examples" / "nimes-demo.yaml"
    env = vigie_env(checkout, work / "var")
    for clip, (_, camera) in zip(clips, CAMERAS):
        cmd = ["analyze", str(clip), "--camera", camera, "--site", str(site), "--no-progress"]
        subprocess.run([PYTHON, "-m", "vigie.cli", *cmd], check=True, env=env, cwd=checkout)
    subprocess.run([PYTHON, "-m", "vigie.cli", "adapt"], check=True, env=env, cwd=checkout)
    work.rename(folder)
    return folder / "var"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(checkout: Path, data: Path, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    site = checkout / "examples" / "nimes-demo.yaml"
    proc = subprocess.Popen(
        [PYTHON, __file__, "--serve", str(data), "--port", str(port), "--site", str(site)],
        env=vigie_env(checkout, data),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=checkout,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/register", timeout=2).close()
            return proc, url
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"the server of {checkout} did not start: see {log.name}") from None
            time.sleep(0.2)


def compress(path: Path) -> None:
    """A screenshot as a 256-colour PNG: a page of text and thumbnails stays legible at a fraction of the size."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def run_version(version: str, checkout: Path, cache: Path, browser, shots: bool, tmp: Path) -> flow.Run:
    demo = analysed_demo(checkout, cache)
    data = Path(shutil.copytree(demo, tmp / version / "var"))
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{version}-server.log", "w") as log:
        proc, url = start_server(checkout, data, log)
        try:
            ctx = browser.new_context(
                viewport={"width": 1280, "height": 800},
                base_url=url,
                locale="fr-FR",
                timezone_id="Europe/Paris",
                accept_downloads=True,
            )
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
            page.set_default_timeout(60_000)

            def shot(p, name):
                path = SHOTS / f"investigator-fr-{name}.png"
                p.screenshot(path=str(path))
                compress(path)

            try:
                run = flow.FLOWS[version](page, shot if shots and version == "after" else None)
            finally:
                ctx.close()
            if errors:
                raise SystemExit(f"{version}: uncaught script errors: {errors}")
            return run
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:  # busy rendering a clip: it is not needed any more
                proc.kill()
                proc.wait()


def table(before: flow.Run, after: flow.Run) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "-"

    head = (
        f"{'step':<15} {'clicks':>13} {'fields':>13} {'characters':>13} {'seconds':>15}\n"
        f"{'':<15} {'before after':>13} {'before after':>13} {'before after':>13} {'before  after':>15}"
    )
    rows = [head]
    for name in flow.STEPS:
        b = next((s for s in before.steps if s.name == name), flow.Step(name))
        a = next((s for s in after.steps if s.name == name), flow.Step(name))
        rows.append(
            f"{name:<15} {b.clicks:>6} {a.clicks:>6} {b.fields:>6} {a.fields:>6} {b.chars:>6} {a.chars:>6} "
            f"{b.seconds:>7.2f} {a.seconds:>7.2f}"
        )
    tb = [before.total(k) for k in ("clicks", "fields", "chars", "seconds")]
    ta = [after.total(k) for k in ("clicks", "fields", "chars", "seconds")]
    rows.append(
        f"{'total':<15} {tb[0]:>6} {ta[0]:>6} {tb[1]:>6} {ta[1]:>6} {tb[2]:>6} {ta[2]:>6} {tb[3]:>7.2f} {ta[3]:>7.2f}"
    )
    rows.append(
        f"{'after/before':<15} {ratio(ta[0], tb[0]):>13} {ratio(ta[1], tb[1]):>13} {ratio(ta[2], tb[2]):>13} "
        f"{ratio(ta[3], tb[3]):>15}"
    )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, default=Path("/tmp/wt-before"), help="a checkout of commit 3ea3f7f")
    ap.add_argument("--after", type=Path, default=ROOT, help="a checkout of issue 20's work (default: this one)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vigie-investigator-bench")
    ap.add_argument("--shots", action="store_true", help="save the after run's French screenshots in docs/")
    ap.add_argument("--only", choices=sorted(flow.FLOWS), help="run one version only (no table)")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.site)
        return
    for version, checkout in (("before", args.before), ("after", args.after)):
        if not (checkout / "vigie" / "web").is_dir():
            raise SystemExit(f"--{version} {checkout}: not a checkout of Vigie (git worktree add {checkout} ...)")
    from playwright.sync_api import sync_playwright

    flow.VERBOSE = True
    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vigie-investigator-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        runs = {
            v: run_version(v, c.resolve(), args.cache, browser, args.shots, Path(tmp))
            for v, c in (("before", args.before), ("after", args.after))
            if args.only in (None, v)
        }
        browser.close()
    if args.only:
        run = runs[args.only]
        for s in run.steps:
            print(f"{s.name:<15} clicks {s.clicks:>3} fields {s.fields:>3} characters {s.chars:>4} {s.seconds:7.2f} s")
        return
    b, a = runs["before"], runs["after"]
    print(f"before: {args.before} (tracks {b.track} and {b.lookalike}); after: {args.after} ({a.track}, {a.lookalike})")
    print(table(b, a))


if __name__ == "__main__":
    main()

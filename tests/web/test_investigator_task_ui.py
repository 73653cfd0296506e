"""Issue 20's investigator's task, in French, in a real browser (Debian's chromium, Playwright): the flow that
bench/investigator_task.py measures (tests/web/investigator_flow.py), run once on the adapted analysed demo that
tests/web/test_ui.py serves too (browser_support `server`, over this module's own copy). A regression guard: the
task completes, for the witness's man and his look-alike, with no more clicks than the bench measured
(docs/BENCHMARKS.md §31).
"""

from __future__ import annotations

import pytest
from browser_support import (  # noqa: F401 (fixtures: browser; demo_data and server, the adapted demo served)
    PAGE_TIMEOUT_MS,
    VIEWPORT,
    browser,
    demo_data,
    demo_server,
    non_local,
)
from investigator_flow import AFTER_CLICKS, STEPS, after

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.mark.timeout(
    1800
)  # the analysed demo (two analyses, once per session), two clips exported, on a shared machine
def test_the_investigators_task_in_french_takes_no_more_clicks_than_measured(browser, server):
    ctx = browser.new_context(viewport=VIEWPORT, base_url=server.url, locale="fr-FR", timezone_id="Europe/Paris")
    ctx.on("request", lambda req: server.requests.append(req.url))
    errors: list[str] = []
    start = len(server.requests)
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        run = after(page)
        assert page.locator("html").get_attribute("lang") == "fr"  # the site's language: the demo site's French
    finally:
        ctx.close()
    assert not errors, errors
    assert not non_local(server.requests[start:])
    assert [s.name for s in run.steps] == list(STEPS)
    assert run.track == server.red_track and run.lookalike not in (0, run.track), run
    clicks = run.total("clicks")
    assert clicks <= AFTER_CLICKS, f"the task now takes {clicks} clicks, more than the {AFTER_CLICKS} measured: {run}"
    assert run.total("fields") <= 8, run

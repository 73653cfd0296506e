"""Issue 19 (findings 1 and 12) in a real browser (Debian's chromium, Playwright): enrolment through a
one-time link, a supervisor approving the role an admin asked for and an investigator's unblur request,
and a forced password change.

The app is served by uvicorn in a background thread over a FRESH store holding one recent track with
its thumbnail and the test blurrer (tests/fakes.py): these pages need no analysed footage. Every
account logs in through the login form, and nobody but its owner ever types a password.

Screenshots: docs/screenshots/enrol.png, approvals.png.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from browser_support import Server, log_in, log_in_as, screenshot, served, vigie_app, vigie_store, wait_until_ready
from builders import T0, english_site, jpeg_bytes, make_summary

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ACCOUNTS = {  # role -> (name, password); these meet the policy
    "admin": ("adm", "admin-pass-12345"),
    "supervisor": ("sup", "supervisor-pass-12"),
    "investigator": ("inv", "investigator-pass-1"),
}
JUST = {"case_ref": "PV-2026-1206-007", "purpose": "burglary rue de la Madeleine"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fakes import FakeBlurrer

    from vigie.config import CameraConfig

    site = english_site(
        name="Nîmes accounts",
        retention_days=20,
        cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, purpose="public safety")],
    )
    with vigie_store(tmp_path_factory.mktemp("accounts-ui") / "var") as store:
        store.upsert_cameras(site.cameras)
        recent = (datetime.now(timezone.utc) - timedelta(hours=1) - T0).total_seconds()
        aid = store.begin_analysis("cam-a", "/videos/x.mp4", "a1".ljust(64, "0"))
        store.add_tracks(aid, [make_summary("cam-a", 1, start_s=recent, jpeg=jpeg_bytes())]).result()
        store.finish_analysis(aid, "complete", 10, 10)
        with store.read() as conn:
            track = conn.execute("SELECT id FROM tracks").fetchone()[0]
        with served(vigie_app(store, site, FakeBlurrer(), ACCOUNTS)) as url:
            yield Server(url, store, track=track)


def test_enrolment_the_supervisor_approves_the_role_then_the_new_user_logs_in(new_page, server):
    """The admin creates an investigator and gets a link, never a password; the new user opens the link and
    chooses a password (a common one is refused next to the field); the role applies once a supervisor
    approves it."""
    from playwright.sync_api import expect

    admin = new_page()
    log_in_as(admin, ACCOUNTS, "admin")
    # the role menu lists every role (issue 19 finding 14)
    options = admin.locator("#new-role option").all_inner_texts()
    assert options == ["operator", "investigator", "auditor", "admin", "analyst", "moderator", "supervisor"]
    admin.fill("#new-username", "c.durand")
    admin.select_option("#new-role", "investigator")
    admin.click("#user-form button[type=submit]")
    expect(admin.locator("#secret")).to_contain_text("Enrolment link")
    secret = admin.locator("#secret").inner_text()
    assert "awaiting a supervisor's approval" in secret and "password:" not in secret.lower()
    link = next(w for w in secret.split() if "/enrol#" in w)
    expect(admin.locator("#users tr", has_text="c.durand")).to_contain_text("awaiting a supervisor: investigator")

    user = new_page()
    user.goto(link)
    expect(user.locator("#enrol-username")).to_have_value("c.durand")
    assert "#" not in user.url  # the token left the address bar
    user.fill("#new-password", "password1234")
    user.fill("#new-password-again", "password1234")
    user.click("#enrol-form button[type=submit]")
    expect(user.locator("#new-password-error")).to_contain_text("too easy to guess")
    user.fill("#new-password", "c.durand's own passphrase")
    user.fill("#new-password-again", "c.durand's own passphrase")
    screenshot(user, "enrol.png")
    user.click("#enrol-form button[type=submit]")
    expect(user.locator("#done")).to_be_visible()
    # before the approval: the account has no role, and may only change its password
    log_in(user, "c.durand", "c.durand's own passphrase", "none")
    expect(user.locator("#no-role")).to_be_visible()

    sup = new_page()
    log_in_as(sup, ACCOUNTS, "supervisor")
    row = sup.locator("#requests tr", has_text="Give c.durand the role investigator")
    expect(row).to_be_visible()
    row.locator("button", has_text="Approve").click()
    expect(sup.locator("#secret")).to_contain_text("approved")
    user.context.clear_cookies()  # the approval ended the account's sessions; log in again
    log_in(user, "c.durand", "c.durand's own passphrase", "investigator")


def test_the_supervisor_approves_an_investigators_unblur_request(new_page, server):
    from playwright.sync_api import expect

    from vigie.audit.log import query as audit_query

    inv = new_page()
    log_in_as(inv, ACCOUNTS, "investigator")
    inv.goto("/search")  # the justification is kept for the tab (as tests/web/test_ui.py investigator_on)
    inv.fill("#case_ref", JUST["case_ref"])
    inv.fill("#purpose", JUST["purpose"])
    inv.goto(f"/track/{server.track}")
    expect(inv.locator("#attrs tr").first).to_be_visible()
    inv.fill("#unblur-reason", "The witness describes a logo on the jacket")
    inv.click("#unblur-form button[type=submit]")
    expect(inv.locator("#case-msg")).to_contain_text("a supervisor must approve it")
    expect(inv.locator("#unblurred-banner")).to_be_hidden()
    assert inv.request.get(f"/api/tracks/{server.track}/thumbnail?unblurred=true").status == 403

    sup = new_page()
    log_in_as(sup, ACCOUNTS, "supervisor")
    row = sup.locator("#requests tr", has_text=f"Unblurred view of track #{server.track}")
    expect(row).to_contain_text(JUST["case_ref"])
    expect(row).to_contain_text("inv (investigator)")
    row.locator("input").fill("case file checked")
    screenshot(sup, "approvals.png")
    row.locator("button", has_text="Approve").click()
    expect(sup.locator("#secret")).to_contain_text("approved")
    expect(sup.locator("#none-pending")).to_be_visible()

    inv.reload()
    expect(inv.locator("#unblurred-banner")).to_contain_text("UNBLURRED view for case " + JUST["case_ref"])
    inv.wait_for_function(
        "() => { const i = document.getElementById('thumb'); return i.src.includes('unblurred=true') && i.complete && i.naturalWidth > 0; }"
    )
    decision = audit_query(server.store, action="approval", user="sup")[-1]
    assert decision.details_dict()["decision"] == "approved" and decision.details_dict()["note"] == "case file checked"
    assert audit_query(server.store, action="view_unblurred", user="inv")


def test_a_password_typed_by_someone_else_is_changed_at_first_login(new_page, server):
    from playwright.sync_api import expect

    from vigie.accounts import users

    users.create_user(
        server.store, "o.martin", "auditor", "typed-by-the-console-9", by="console:root", must_change=True
    )
    page = new_page()
    log_in(page, "o.martin", "typed-by-the-console-9", "auditor", "/password")
    expect(page.locator("#must-change")).to_be_visible()
    page.goto("/audit")  # anything else sends the user back
    page.wait_for_url("**/password")
    wait_until_ready(page)  # a submit before the form's handler is attached reloads the page
    page.fill("#current-password", "typed-by-the-console-9")
    page.fill("#new-password", "o.martin's own passphrase")
    page.fill("#new-password-again", "o.martin's own passphrase")
    page.click("#password-form button[type=submit]")
    page.wait_for_url("**/audit")
    expect(page.locator("#who")).to_have_text("o.martin (auditor)")

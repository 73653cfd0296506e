"""Issue 20, point 3: cases. A case opened once per session holds across tabs (two clients on one session
cookie) and justifies every request that gives none, each audit entry still naming it; switching is
audited; the case page lists the case's searches, marks, trails, holds and exports under the access rule
(an investigator sees their own entries and the case's shared marks and holds; an auditor sees everyone's;
an operator has no case); a multi-track export is a job never started twice, whose ZIP holds the tracks,
their trail, the evidence sheet (a PDF with a page per track and the SHA-256 of every file) and the
manifest; holds are listed for a track and lifted only by their placer or a supervisor, with a reason."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import time
import zipfile

import pytest
from builders import logged_in
from fastapi.testclient import TestClient
from test_web_api import JUST, PW, SITE, cheap_hashing, client, env  # noqa: F401  (fixtures)

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.services import Services
from vigie.web.app import COOKIE, create_app

CASE = {"case_ref": "PV-2026-0777", "purpose": "theft of a bicycle, place de l'Horloge"}


def second_tab(env, first: TestClient) -> TestClient:
    """Another tab of the same browser: the same session cookie, nothing else shared."""
    tab = TestClient(env["app"])
    tab.cookies.set(COOKIE, first.cookies.get(COOKIE))
    return tab


def entries(store, user: str) -> list:
    return [e for e in audit_query(store, user=user, limit=1000) if e.action != "login"]


def test_a_case_opened_once_holds_across_tabs_and_justifies_requests_that_give_none(env):
    store, t, old = env["store"], env["recent"], env["old"]
    inv = client(env, "investigator")
    assert inv.get("/api/case").json() == {"case": None, "can_open": True}
    assert inv.get(f"/api/tracks/{t}").status_code == 400  # no case yet: a justification is required
    r = inv.put("/api/case", json=CASE)
    assert r.status_code == 200 and r.json()["case"]["case_ref"] == CASE["case_ref"]

    tab = second_tab(env, inv)  # a result opened in a new tab
    assert tab.get("/api/case").json()["case"]["purpose"] == CASE["purpose"]
    assert tab.get(f"/api/tracks/{t}").status_code == 200
    assert tab.get(f"/api/similar/{t}").status_code == 200  # "find similar" in the new tab
    assert tab.get(f"/api/tracks/{t}/thumbnail").status_code == 200
    assert tab.post("/api/search", json={"classes": ["person"]}).status_code == 200
    assert tab.get(f"/api/trail/{old}").status_code == 200
    looks = [e for e in entries(store, "investigator") if e.action not in ("case_open",)]
    assert {e.action for e in looks} >= {"view_track", "similar", "search", "trail"}
    for e in looks:
        assert (e.case_ref, e.purpose) == (CASE["case_ref"], CASE["purpose"]), e.action

    # a request that names its own case keeps it (and must give its own purpose)
    r = tab.get(f"/api/tracks/{t}", params={"case_ref": "PV-OTHER"})
    assert r.status_code == 400 and r.json()["missing"] == ["purpose"]
    assert tab.get(f"/api/tracks/{t}", params=JUST).status_code == 200
    assert audit_query(store, user="investigator", action="view_track", limit=1000)[-1].case_ref == JUST["case_ref"]

    # switching is audited, naming the case it replaced; the other tab follows
    assert tab.put("/api/case", json={"case_ref": "PV-2026-0778", "purpose": "assault"}).status_code == 200
    assert inv.get("/api/case").json()["case"]["case_ref"] == "PV-2026-0778"
    opened = audit_query(store, user="investigator", action="case_open", limit=10)
    assert [e.case_ref for e in opened] == [CASE["case_ref"], "PV-2026-0778"]
    assert opened[-1].details_dict() == {"switched_from": CASE["case_ref"]}

    # closing: audited under the case; requests must justify themselves again
    r = inv.delete("/api/case")
    assert r.status_code == 200 and r.json()["closed"]["case_ref"] == "PV-2026-0778"
    assert audit_query(store, user="investigator", action="case_close", limit=10)[-1].case_ref == "PV-2026-0778"
    assert tab.get(f"/api/tracks/{t}").status_code == 400
    # another session of the same user has its own case (none)
    assert client(env, "investigator").get("/api/case").json()["case"] is None


@pytest.mark.parametrize(
    "body, field",
    [({"case_ref": " ", "purpose": "x"}, "case_ref"), ({"case_ref": "PV-1", "purpose": ""}, "purpose")],
)
def test_a_blank_case_or_purpose_is_refused_naming_the_field_and_keeps_the_open_case(env, body, field):
    inv = client(env, "investigator")
    inv.put("/api/case", json=CASE)
    r = inv.put("/api/case", json=body)
    assert r.status_code in (400, 422) and field in r.json()["error"]
    assert inv.get("/api/case").json()["case"]["case_ref"] == CASE["case_ref"]


def test_roles_without_cases_cannot_open_one_or_read_a_case_page(env):
    for role in ("operator", "admin", "analyst", "moderator"):
        c = client(env, role)
        assert c.put("/api/case", json=CASE).status_code == 403, role
        assert c.get(f"/api/cases/{CASE['case_ref']}").status_code == 403, role
        assert c.get("/api/case").json() == {"case": None, "can_open": False}
    op = client(env, "operator")
    r = op.put(
        f"/api/cases/{CASE['case_ref']}/marks/{env['recent']}", json={"mark": "same", "purpose": CASE["purpose"]}
    )
    assert r.status_code == 403


def test_the_case_page_lists_searches_marks_trails_holds_and_exports_under_the_access_rule(env):
    store, ids = env["store"], env["ids"]
    ref = CASE["case_ref"]
    inv = client(env, "investigator")
    inv.put("/api/case", json=CASE)
    inv.post("/api/search", json={"classes": ["person"]})
    inv.get(f"/api/similar/{ids[0]}")
    inv.get(f"/api/trail/{ids[0]}")
    assert inv.put(f"/api/cases/{ref}/marks/{ids[0]}", json={"mark": "same"}).status_code == 200
    assert inv.put(f"/api/cases/{ref}/marks/{ids[1]}", json={"mark": "different"}).status_code == 200
    assert inv.put(f"/api/cases/{ref}/marks/{ids[1]}", json={"mark": "sme"}).status_code == 422
    assert inv.put(f"/api/cases/{ref}/marks/999999", json={"mark": "same"}).status_code == 404
    held = inv.post("/api/holds", json={"reason": "court order 12/345", "track_ids": [ids[0]]})
    assert held.status_code == 201
    assert inv.post("/api/exports", json={"track_ids": [ids[0]], "clips": False}).status_code == 200

    page = inv.get(f"/api/cases/{ref}").json()
    assert page["scope"] == "mine"
    assert [s["action"] for s in page["searches"]] == ["similar", "search"]  # newest first
    assert [t["details"]["track_id"] for t in page["trails"]] == [ids[0]]
    assert {m["track_id"]: m["mark"] for m in page["marks"]} == {ids[0]: "same", ids[1]: "different"}
    assert [h["id"] for h in page["holds"]] == [held.json()["id"]] and page["holds"][0]["case_ref"] == ref
    assert [x["track_ids"] for x in page["exports"]] == [[ids[0]]]
    assert audit_query(store, user="investigator", action="view_case", limit=5)[-1].case_ref == ref

    # another investigator: only their own entries, and the case's shared record (marks, holds)
    users.create_user(store, "investigator2", "investigator", PW)
    other = logged_in(env["app"], "investigator2", PW)
    assert other.get(f"/api/cases/{ref}").status_code == 400  # must say why, like every look
    page2 = other.get(f"/api/cases/{ref}", params={"purpose": "check before a hearing"}).json()
    assert page2["searches"] == page2["trails"] == page2["exports"] == []
    assert len(page2["marks"]) == 2 and len(page2["holds"]) == 1
    # the auditor sees everyone's entries, with no justification
    page3 = client(env, "auditor").get(f"/api/cases/{ref}").json()
    assert page3["scope"] == "everyone" and len(page3["searches"]) == 2 and len(page3["exports"]) == 1

    # removing a mark
    assert inv.put(f"/api/cases/{ref}/marks/{ids[1]}", json={"mark": None}).status_code == 200
    assert [m["track_id"] for m in inv.get(f"/api/cases/{ref}").json()["marks"]] == [ids[0]]


def test_holds_are_listed_for_a_track_and_lifted_only_by_their_placer_or_a_supervisor_with_a_reason(env):
    store, t = env["store"], env["recent"]
    inv = client(env, "investigator")
    inv.put("/api/case", json=CASE)
    hold_id = inv.post("/api/holds", json={"reason": "court order", "track_ids": [t]}).json()["id"]
    listed = inv.get(f"/api/tracks/{t}/case").json()
    assert [h["id"] for h in listed["holds"]] == [hold_id] and listed["holds"][0]["case_ref"] == CASE["case_ref"]
    assert client(env, "operator").get(f"/api/tracks/{t}/case", params=JUST).status_code == 403
    # with no case open, a case reference and a purpose given with the request do
    listed = client(env, "investigator").get(f"/api/tracks/{t}/case", params=JUST).json()
    assert [h["id"] for h in listed["holds"]] == [hold_id]
    assert audit_query(store, action="view_holds", limit=100)[-1].case_ref == JUST["case_ref"]

    users.create_user(store, "investigator2", "investigator", PW)
    other = logged_in(env["app"], "investigator2", PW)
    assert other.post(f"/api/holds/{hold_id}/lift", json={"reason": "not mine"}).status_code == 403
    assert inv.post(f"/api/holds/{hold_id}/lift", json={"reason": ""}).status_code == 422
    assert inv.post(f"/api/holds/{hold_id}/lift", json={"reason": "case closed by the court"}).status_code == 200
    assert inv.get(f"/api/tracks/{t}/case").json()["holds"] == []
    page = inv.get(f"/api/cases/{CASE['case_ref']}").json()
    assert page["holds"][0]["lifted_by"] == "investigator"
    lift = audit_query(store, action="hold_lift", limit=5)[-1]
    assert lift.case_ref == CASE["case_ref"] and lift.user == "investigator"
    # a supervisor lifts another's hold
    second = inv.post("/api/holds", json={"reason": "complaint 88", "track_ids": [t]}).json()["id"]
    sup = client(env, "supervisor")
    assert sup.post(f"/api/holds/{second}/lift", json={"reason": "released by the prosecutor"}).status_code == 200


def pdf_text(data: bytes, tmp_path) -> tuple[str, int]:
    """The PDF's text and page count, read by poppler's pdftotext and pdfinfo (FAILS without them: the sheet
    is only checked if it is read)."""
    assert shutil.which("pdftotext") and shutil.which("pdfinfo"), (
        "poppler-utils is not installed: `make setup` as root (apt-get install poppler-utils) to read the sheet"
    )
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, timeout=60).stdout.decode()
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return text.stdout.decode(), pages


def wait_done(c: TestClient, job_id: str, limit_s: float = 120) -> dict:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        job = c.get(f"/api/case-exports/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"export {job_id} did not finish in {limit_s} s")


@pytest.mark.timeout(300)
def test_a_multi_track_export_is_one_job_with_the_trail_and_an_evidence_sheet_with_its_sums(env, tmp_path):
    store, ids = env["store"], env["ids"]
    ref = CASE["case_ref"]
    paris = SITE.model_copy(update={"timezone": "Europe/Paris"})  # the sheet's times are the site's, labelled
    env = {**env, "app": create_app(Services(store=store, site=paris, blurrer=env["blurrer"]))}
    inv = client(env, "investigator")
    inv.put("/api/case", json=CASE)
    r = inv.post(f"/api/cases/{ref}/exports", json={"clips": False})
    assert r.status_code == 400 and "marked" in r.json()["error"]  # nothing marked yet
    r = inv.post(f"/api/cases/{ref}/exports", json={"track_ids": [ids[0]], "unblurred": True})
    assert r.status_code == 403 and "unblur grant" in r.json()["error"]  # unblurred only under approved grants
    for t in (ids[1], ids[0]):
        inv.put(f"/api/cases/{ref}/marks/{t}", json={"mark": "same"})
    first = inv.post(f"/api/cases/{ref}/exports", json={"clips": False})
    assert first.status_code == 202
    again = second_tab(env, inv).post(f"/api/cases/{ref}/exports", json={"clips": False})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]  # never started twice
    job = wait_done(inv, first.json()["id"])
    assert job["status"] == "done", job
    assert job["progress"]["done"] == job["progress"]["total"] == 2
    # another user cannot see or fetch it
    users.create_user(store, "investigator2", "investigator", PW)
    assert logged_in(env["app"], "investigator2", PW).get(f"/api/case-exports/{job['id']}/download").status_code == 404

    r = inv.get(f"/api/case-exports/{job['id']}/download")
    assert r.status_code == 200 and r.headers["X-Vigie-SHA256"] == hashlib.sha256(r.content).hexdigest()
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(zf.namelist())
    assert {"evidence-sheet.pdf", "manifest.json", "SHA256SUMS", "trail.json"} <= names
    for t in ids[:2]:
        assert f"tracks/{t}/track.json" in names and f"tracks/{t}/thumbnail.jpg" in names
    sums = dict(reversed(line.split("  ", 1)) for line in zf.read("SHA256SUMS").decode().splitlines())
    assert set(sums) == names - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256(zf.read(name)).hexdigest() == digest, name
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["case_ref"] == ref and [t["track_id"] for t in manifest["trail"]] == sorted(ids[:2])
    assert manifest["blurred"] is True and manifest["marks"] == {str(ids[0]): "same", str(ids[1]): "same"}

    text, pages = pdf_text(zf.read("evidence-sheet.pdf"), tmp_path)
    assert pages >= 2 + 2 + 2  # cover, one per track, trail, custody, sums
    flat = " ".join(text.split())
    assert ref in flat and "cam-a" in flat and "Europe/Paris" in flat
    for name in names - {"evidence-sheet.pdf", "manifest.json", "SHA256SUMS"}:
        assert sums[name] in flat, name  # every file's SHA-256 is printed on the sheet
    # the chain of custody: the marks and the export request's case are in the sheet
    assert "case_mark" in flat

    # the export is recorded: its audit entry (with the ZIP's SHA-256) and the case page's list
    entry = audit_query(store, user="investigator", action="export", limit=5)[-1]
    assert entry.case_ref == ref and entry.details_dict()["sha256"] == job["sha256"]
    assert [x["ref"] for x in inv.get(f"/api/cases/{ref}").json()["exports"]] == [job["export_ref"]]
    # finished and unchanged: the same request answers the same job (no second export)
    assert inv.post(f"/api/cases/{ref}/exports", json={"clips": False}).json()["id"] == job["id"]
    assert len(audit_query(store, user="investigator", action="export", limit=5)) == 1


def test_a_user_has_one_export_in_progress_and_the_same_request_gets_the_same_job(env):
    ids = env["ids"]
    inv = client(env, "investigator")
    inv.put("/api/case", json=CASE)
    jobs = env["app"].state.case_exports
    with jobs._one_at_a_time:  # the worker is busy: the job stays queued, whatever the machine's speed
        first = inv.post(f"/api/cases/{CASE['case_ref']}/exports", json={"track_ids": [ids[0]], "clips": False})
        assert first.status_code == 202 and first.json()["status"] in ("queued", "running")
        same = inv.post(f"/api/cases/{CASE['case_ref']}/exports", json={"track_ids": [ids[0]], "clips": False})
        assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
        other = inv.post(f"/api/cases/{CASE['case_ref']}/exports", json={"track_ids": [ids[1]], "clips": False})
        assert other.status_code == 409 and first.json()["id"] in other.json()["error"]
        assert inv.get(f"/api/case-exports/{first.json()['id']}/download").status_code == 409  # not ready
    assert wait_done(inv, first.json()["id"])["status"] == "done"
    assert (
        inv.post(f"/api/cases/{CASE['case_ref']}/exports", json={"track_ids": [ids[1]], "clips": False}).status_code
        == 202
    )

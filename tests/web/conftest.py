"""The browser fixtures of every module here (tests/web/browser_support.py): `browser`, Debian's chromium under
Playwright, and `new_page`, fresh pages over the module's own `server` fixture; and `adapted_demo`, the analysed
demo adapted once per run, of which the modules that serve the demo take their own copy (browser_support
`demo_data`)."""

from pathlib import Path

import pytest
from browser_support import browser, new_page  # noqa: F401 (fixtures)
from builders import copy_data_dir, made_once_per_run


@pytest.fixture(scope="session")
def adapted_demo(analysed_demo, tmp_path_factory) -> Path:
    """A copy of the analysed demo (tests/conftest.py `analysed_demo`) on which `vigie adapt` has run, so that
    similar and trail use the site's model. Adapted once per run (made_once_per_run): never change this folder,
    take your own copy (copy_data_dir, as browser_support's `demo_data` does)."""
    from vigie.cli import main

    def adapt(folder: Path) -> Path:
        data = copy_data_dir(analysed_demo, folder)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VIGIE_DATA", str(data))
            assert main(["adapt"]) == 0
        return data

    return made_once_per_run(tmp_path_factory, "adapted-demo", adapt)


def pytest_collection_modifyitems(items):
    """Schemathesis makes one test item per API operation, named `test[GET /api/...]`, but gives every item the
    test function's node id. pytest-xdist schedules by node id, so it would run one operation of 98 (make test
    runs most tests in two processes): each item gets its name, operation included, in its node id.

    This reaches into pytest's private state: the fix belongs upstream (schemathesis naming its items). On
    `make lock`, see whether a new schemathesis does it (then this hook does nothing and can go); a new pytest
    that keeps the id elsewhere fails the assertion below rather than silently running one operation."""
    from _pytest.nodes import coerce_node_id  # pytest 9 keeps the id in Node._id (pytest is pinned in the lock)

    for item in items:
        label = getattr(item, "operation_label", None)
        if label is not None and not item.nodeid.endswith("]"):
            item._id = coerce_node_id(f"{item.nodeid}[{label}]")
            assert item.nodeid.endswith(f"[{label}]"), "pytest keeps node ids elsewhere now: see this hook"

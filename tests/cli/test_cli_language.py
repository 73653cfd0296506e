"""The CLI speaks the site file's language: a French site's errors are French, $VIGIE_LANG overrides it."""

from __future__ import annotations

from builders import DEMO_CAMERA, DEMO_SITE

from vigie.cli import main
from vigie.i18n import current_language


def test_a_french_site_gets_french_errors_and_vigie_lang_english(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "data"))
    missing = tmp_path / "absent.mp4"
    args = ["analyze", str(missing), "--camera", DEMO_CAMERA, "--site", str(DEMO_SITE), "--no-progress"]

    monkeypatch.delenv("VIGIE_LANG", raising=False)  # the demo site file is French (language: fr by default)
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == f"vigie\u00a0: erreur\u00a0: le fichier vidéo {missing} n'existe pas"
    assert current_language() == "en"  # the command's language ended with it (the suite's stays English)

    monkeypatch.setenv("VIGIE_LANG", "en")
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == f"vigie: error: video file {missing} does not exist"

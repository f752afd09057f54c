"""The French catalogue is complete, and the committed .mo matches the .po."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent / "essaim" / "locale"
PO = LOCALE / "fr" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_french_translation_and_none_is_fuzzy() -> None:
    catalogue = polib.pofile(str(PO))
    assert len(catalogue) > 50
    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []


def test_the_compiled_catalogue_is_up_to_date() -> None:
    compiled = gettext.translation("django", localedir=LOCALE, languages=["fr"])
    for entry in polib.pofile(str(PO)).translated_entries():
        if entry.msgid_plural:
            got = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
            assert got == entry.msgstr_plural[0], entry.msgid
        elif entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


def test_every_string_of_the_code_is_in_the_catalogue(tmp_path: Path) -> None:
    """makemessages, run on a copy, finds no message the committed catalogue lacks: a
    string added to the code without its translation fails here, not in front of users."""
    if not shutil.which("xgettext"):
        pytest.skip("gettext is not installed (apt-get install gettext)")
    copy = tmp_path / "essaim"
    shutil.copytree(PO.parents[3], copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        # django-admin, not "python -m django": with the copy as the current directory,
        # its essaim/http.py would shadow the standard library's http.
        [Path(sys.executable).parent / "django-admin", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "essaim.settings"},
    )
    found = {e.msgid for e in polib.pofile(str(copy / "locale/fr/LC_MESSAGES/django.po"))}
    known = {e.msgid for e in polib.pofile(str(PO))}
    assert sorted(found - known) == []

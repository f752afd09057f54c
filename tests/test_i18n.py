"""The French catalogue is complete, and the committed .mo matches the .po."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib

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

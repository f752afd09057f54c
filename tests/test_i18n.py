"""The French catalogue is complete, and the committed .mo matches the .po."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "essaim" / "locale"
PO = LOCALE / "fr" / "LC_MESSAGES" / "django.po"


def entries() -> list[tuple[str, str, str]]:
    """(context, msgid, msgstr) of every single-line entry of the .po file."""
    pattern = re.compile(r'(?:msgctxt "(.*)"\n)?msgid "(.+)"\nmsgstr "(.*)"\n(?!")')
    return pattern.findall(PO.read_text())


def test_every_message_has_a_french_translation_and_none_is_fuzzy() -> None:
    text = PO.read_text()
    assert "#, fuzzy" not in text
    assert len(entries()) > 50
    assert [msgid for _, msgid, msgstr in entries() if not msgstr] == []


def test_the_compiled_catalogue_is_up_to_date() -> None:
    catalogue = gettext.translation("django", localedir=LOCALE, languages=["fr"])
    for context, msgid, msgstr in entries():
        if "\\" in msgid:  # escapes: compared by Django's own tests of rendering
            continue
        got = catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)
        assert got == msgstr.replace('\\"', '"'), msgid

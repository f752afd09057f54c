"""Text helpers of the directory's search: normalised words and one-typo neighbours."""

from __future__ import annotations

import re
import unicodedata

from django.conf.locale import LANG_INFO

from .models import TOKEN_MAX

# Spoken languages a profile may list: Django's table of languages with a plain code.
LANGUAGES: dict[str, str] = {
    code: info["name"]
    for code, info in sorted(LANG_INFO.items())
    if "-" not in code and "name" in info
}

_WORD = re.compile(r"[^\W_]+")
# Below this length a word is matched by prefix only: one typo in three letters is
# another word.
FUZZY_MIN_LENGTH = 4


def normalize(text: str) -> str:
    """Lower case without accents: "Éloïse D'Arc" → "eloise d'arc"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """The normalised words of a text, in order, each cut to the index's length.
    Elisions and compound names give their parts and the whole: "d'Arc" → d, arc, darc."""
    found: list[str] = []
    for chunk in normalize(text).split():
        parts = _WORD.findall(chunk)
        found.extend(parts)
        if len(parts) > 1:
            found.append("".join(parts))
    return [word[:TOKEN_MAX] for word in found]


def deletions(word: str) -> set[str]:
    """The word and every string one deleted letter away from it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a swap of two
    neighbouring letters counts as one typo."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def typos_allowed(word: str) -> int:
    if len(word) < FUZZY_MIN_LENGTH:
        return 0
    return 1 if len(word) < 8 else 2

"""Text analysis, the same for every engine: what is indexed and what a query looks for.

A text becomes terms: lower case, accents and case ignored, elisions split off
("l'entreprise" gives "entreprise"), stop words dropped (their positions kept, so that a
phrase still lines up), and each word stemmed (Snowball, through PyStemmer) in the text's
language — French or English, told by which language's stop words it uses more. A query
word is looked for under both languages' stems, as a query is too short to tell."""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

LANGUAGES = ("fr", "en")
TERM_MAX = 40  # longer "words" (hashes, URLs) are cut: nobody types them whole
_STEMMERS = {"fr": "french", "en": "english"}

# Words of the text that are not letters or digits split it; an apostrophe ends an elision.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
ELISIONS = frozenset(("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"))
APOSTROPHES = "'\u2019"

# Words too common to tell documents apart (folded: no accents).
_FRENCH_STOP_WORDS = """
    a ai as au aussi aux avec avez avoir avons c car ce ceci cela ces cet cette comme d
    dans de des donc dont du elle elles en entre est et etait ete etes etre eu faire
    fait il ils j je l la le les leur leurs lui m ma mais me meme mes moi mon n ne nos
    notre nous on ont ou par pas plus pour qu quand que qui s sa sans se sera seront ses
    si sommes son sont sous suis sur t ta te tes toi ton tous tout toute toutes tres tu
    un une vos votre vous y ca
"""
_ENGLISH_STOP_WORDS = """
    a an and are as at be been being but by can could did do does doing don for from had
    has have having he her hers him his how i if in into is it its itself just me my no
    nor not of off on or our ours s she should so some such t than that the their theirs
    them then there these they this those to too under until up very was we were what
    when where which while who whom why will with would you your yours
"""
STOP_WORDS = {
    "fr": frozenset(_FRENCH_STOP_WORDS.split()),
    "en": frozenset(_ENGLISH_STOP_WORDS.split()),
}


def fold(text: str) -> str:
    """Lower case without accents: "Éloïse" → "eloise"."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_combining_marks())


@lru_cache(maxsize=1)
def _combining_marks() -> dict[int, None]:
    """Every combining mark, for str.translate to drop (a character at a time in Python
    was a tenth of a rebuild's time)."""
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c))}


def words(text: str) -> list[str]:
    """The folded words of a text in order, elisions split off ("qu'il" → "il")."""
    found: list[str] = []
    for chunk in fold(text).split():
        parts = _WORD.findall(chunk)
        if len(parts) > 1 and parts[0] in ELISIONS and chunk[len(parts[0])] in APOSTROPHES:
            parts = parts[1:]
        found.extend(part[:TERM_MAX] for part in parts)
    return found


def language_of(folded_words: list[str], default: str = "en") -> str:
    """The language whose stop words the text uses more (``default`` on a tie)."""
    counts = {lang: sum(w in STOP_WORDS[lang] for w in folded_words) for lang in LANGUAGES}
    other = "fr" if default == "en" else "en"
    return other if counts[other] > counts[default] else default


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMERS[language])


@lru_cache(maxsize=100_000)
def stem(word: str, language: str) -> str:
    return str(_stemmer(language).stemWord(word))


@dataclass(frozen=True)
class Analysed:
    language: str
    terms: list[tuple[int, str]]  # (position, term): stop words leave their position empty
    exact: list[str]  # the same words unstemmed (folded): a word as typed weighs more


def analyse(text: str, language: str | None = None) -> Analysed:
    """A text's terms with their positions, stemmed in its language (told from the text
    when not given)."""
    found = words(text)
    language = language or language_of(found)
    stops = STOP_WORDS[language]
    stemmer = _stemmer(language)
    kept = [(position, word) for position, word in enumerate(found) if word not in stops]
    stems = stemmer.stemWords([word for _position, word in kept])
    terms = [(position, str(stem)) for (position, _word), stem in zip(kept, stems, strict=True)]
    return Analysed(language, terms, [word for _position, word in kept])


def query_forms(word: str, language: str) -> list[str]:
    """What one folded query word may have been indexed as: its stem in each language
    (one term when they agree); nothing for a stop word of the query's ``language``
    ("car" is a stop word in French, a word in English)."""
    if word in STOP_WORDS[language]:
        return []
    return list(dict.fromkeys(stem(word, lang) for lang in LANGUAGES))

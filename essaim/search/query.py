"""What a search box's text asks for, the same for every engine.

    words            every word (AND), each under its stems in both languages
    "a phrase"       these words in this order (also « » and “ ”)
    -word -"phrase"  without them
    a OR b           either (also ``|``)
    word*            words starting so; ``as_you_type`` makes the last word a prefix too

Nothing here fails: a stray quote, dash or OR is read as plain words or dropped, and the
query is cut to ``QUERY_MAX`` characters and ``CLAUSES_MAX`` clauses so that no query costs
more than a bounded amount of work."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .analysis import LANGUAGES, STOP_WORDS, query_forms, stem, words

QUERY_MAX = 256
CLAUSES_MAX = 12
PHRASE_MAX = 8
PREFIX_MIN = 2  # a one-letter prefix matches half the vocabulary

_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"'})
# A phrase, an OR, or a word with its sign and star; anything else separates.
_TOKEN = re.compile(
    r'(?P<neg>-)?"(?P<phrase>[^"]*)"?|(?P<or>\bOR\b|\|)|(?P<neg2>-)?(?P<word>[^\s"|]+)'
)


@dataclass(frozen=True)
class Word:
    text: str  # the folded word as typed: for "did you mean" and highlighting
    forms: tuple[str, ...]  # the indexed terms it may be
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[Word, ...]
    offsets: tuple[int, ...]  # each word's place in the phrase (stop words leave gaps)


Term = Word | Phrase


@dataclass
class Query:
    text: str
    language: str
    must: list[tuple[Term, ...]] = field(default_factory=list)  # all of these, each any-of
    must_not: list[Term] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.must

    def corrected(self, terms: dict[str, str]) -> Query:
        """The same query with these words (as typed, folded) looked for as these terms."""

        def fix(term: Term) -> Term:
            if isinstance(term, Phrase):
                return Phrase(tuple(fix(w) for w in term.words), term.offsets)  # type: ignore[misc]
            return replace(term, forms=(terms[term.text],)) if term.text in terms else term

        must = [tuple(fix(t) for t in alternatives) for alternatives in self.must]
        return Query(self.text, self.language, must, self.must_not)

    def words(self) -> list[Word]:
        """Every word looked for (not the excluded ones)."""
        found: list[Word] = []
        for alternatives in self.must:
            for term in alternatives:
                found.extend(term.words if isinstance(term, Phrase) else (term,))
        return found


def query_language(folded: list[str], default: str) -> str:
    """A query's language: the one whose stop words it uses, else the searcher's."""
    counts = {lang: sum(w in STOP_WORDS[lang] for w in folded) for lang in LANGUAGES}
    best = max(LANGUAGES, key=lambda lang: counts[lang])
    return best if counts[best] > min(counts.values()) else default


def _word(text: str, language: str, prefix: bool) -> Word | None:
    folded = words(text)
    if len(folded) != 1:
        return None
    word = folded[0]
    if prefix:  # a word being typed: whatever its stems start (stop words too: "car|te")
        if len(word) < PREFIX_MIN:
            return None
        return Word(word, tuple(dict.fromkeys(stem(word, lang) for lang in LANGUAGES)), True)
    forms = query_forms(word, language)
    return Word(word, tuple(forms)) if forms else None


def _phrase(text: str, language: str) -> Term | None:
    parts = words(text)[:PHRASE_MAX]
    found: list[Word] = []
    offsets: list[int] = []
    for offset, part in enumerate(parts):
        word = _word(part, language, prefix=False)
        if word is not None:
            found.append(word)
            offsets.append(offset)
    if len(found) <= 1:
        return found[0] if found else None
    return Phrase(tuple(found), tuple(offset - offsets[0] for offset in offsets))


def _terms(text: str, language: str, prefix: bool) -> list[Word]:
    """A typed token may hold several words ("e-mail", "l'équipe,"): one term each."""
    star = text.endswith("*")
    found = [_word(part, language, prefix or star) for part in words(text.rstrip("*"))]
    return [word for word in found if word is not None]


def parse(text: str, *, language: str = "en", as_you_type: bool = False) -> Query:
    text = text[:QUERY_MAX].translate(_QUOTES)
    language = query_language(words(re.sub(r"\bOR\b", " ", text)), language)
    query = Query(text=text, language=language)
    tokens = list(_TOKEN.finditer(text))
    joined_by_or = False
    for index, token in enumerate(tokens):
        if token["or"]:
            joined_by_or = bool(query.must)
            continue
        last = index == len(tokens) - 1 and not text[token.end() :].strip()
        negative = bool(token["neg"] or token["neg2"])
        if token["phrase"] is not None:
            found: list[Term] = [p] if (p := _phrase(token["phrase"], language)) else []
        else:
            found = list(_terms(token["word"], language, as_you_type and last and not negative))
        if not found:
            continue
        if negative:
            query.must_not.extend(found)
        elif joined_by_or:
            query.must[-1] = (*query.must[-1], *found)
        else:
            query.must.extend((term,) for term in found)
        joined_by_or = False
    query.must = query.must[:CLAUSES_MAX]
    query.must_not = query.must_not[:CLAUSES_MAX]
    return query

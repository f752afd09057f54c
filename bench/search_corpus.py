"""A synthetic corpus for the search engines' benchmarks: documents whose words follow
Zipf's law (as real text does, so a few words are in a quarter of the documents and most
in a handful), each in one access scope, and queries rotated from the rarest word to the
most common and in AND pairs.

Words are already analysed (lower case, stemmed): engines index them as given.
Deterministic for a given seed, streamed so that millions of documents fit in memory."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

VOCABULARY = 50_000
TITLE_WORDS = 6
BODY_WORDS = 60
SCOPES = 5_000  # communities and conversations; scope 0 is "every employee"
PUBLIC_SHARE = 0.3
# Stop words are not indexed: the most common word left is in about a quarter of documents.
STOP_WORDS = 25
SYLLABLES = [a + b for a in "bcdfglmnprstv" for b in "aeiou"]


def word(rank: int) -> str:
    """The rank-th most common word, spelled from syllables (``bada``, ``beca``, ...)."""
    letters = []
    n = rank
    while True:
        n, unit = divmod(n, len(SYLLABLES))
        letters.append(SYLLABLES[unit])
        if n == 0:
            break
    return "".join(letters) + ("s" if len(letters) < 2 else "")


@dataclass
class Doc:
    id: int
    scope: int
    created: int  # seconds before now
    title: str
    body: str


def documents(count: int, seed: int = 7) -> Iterator[Doc]:
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1 / (rank + 1 + STOP_WORDS) for rank in range(VOCABULARY)))
    words = [word(rank) for rank in range(VOCABULARY)]
    for n in range(1, count + 1):
        picked = rng.choices(words, cum_weights=weights, k=TITLE_WORDS + BODY_WORDS)
        scope = 0 if rng.random() < PUBLIC_SHARE else rng.randrange(1, SCOPES)
        yield Doc(
            id=n,
            scope=scope,
            created=rng.randrange(0, 3 * 365 * 86400),
            title=" ".join(picked[:TITLE_WORDS]),
            body=" ".join(picked[TITLE_WORDS:]),
        )


def searcher_scopes(count: int = 50, seed: int = 11) -> list[int]:
    """The scopes of a searcher in ``count`` communities, plus every employee's."""
    return [0, *random.Random(seed).sample(range(1, SCOPES), count)]


def query_words(seed: int = 13) -> list[str]:
    """Single words from the most common to the rarest, about evenly spread on a log scale."""
    ranks = sorted({int(1.35**k) - 1 for k in range(36) if int(1.35**k) - 1 < VOCABULARY})
    del seed
    return [word(rank) for rank in ranks]


def query_pairs(count: int = 30, seed: int = 13) -> list[tuple[str, str]]:
    """AND pairs of a common word with words of every rarity."""
    rng = random.Random(seed)
    singles = query_words()
    return [(rng.choice(singles[:8]), rng.choice(singles)) for _ in range(count)]

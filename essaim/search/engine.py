"""The one interface every search engine implements, and the choice of engine.

An engine stores documents (``documents.Document``) and answers a search: the documents
that match a parsed query (``query.Query``) among those carrying one of the searcher's
access keys, best first by text relevance (BM25: term frequency, rarity, title over
body), with their count and facets — all computed inside the engine's query, so that
nothing a searcher may not see is ever matched, counted or suggested. Ranking boosts
(freshness, engagement, closeness) come after, in ``selectors``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from .documents import Document
from .query import Query

FACET_SIZE = 10
# Weights measured on judged sets (bench/search_relevance.py): a title word counts half
# again as much as a body word; a word as typed twice as much as another of its stem.
TITLE_BOOST = 1.5
EXACT_BOOST = 2.0
PREFIX_EXPANSIONS = 30  # the most frequent words a prefix stands for


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    communities: list[int] = field(default_factory=list)
    authors: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)  # open, answered, accepted
    has_file: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    documents: list[str] = field(default_factory=list)  # only these ids ("post:12")


def day_bound(day: date | None, *, end: bool) -> datetime | None:
    """The first (or, with ``end``, the last) moment of a day, for ``since``/``until``."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


@dataclass
class Request:
    query: Query
    keys: list[str]  # access.search_keys of the searcher
    filters: Filters = field(default_factory=Filters)
    limit: int = 10
    facets: bool = False
    # How many of the query's clauses a document must hold (None: all of them).
    minimum: int | None = None


@dataclass
class Hit:
    kind: str
    pk: int
    score: float


@dataclass
class Result:
    hits: list[Hit]
    total: int  # every match, or with ``more`` those counted before the best were known
    # facet name (kind, community, tag, state) -> value -> count, largest first
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    more: bool = False  # more matches than counted: ``total`` (and facets) a lower bound


class IndexBusy(Exception):
    """Another process writes the index (tantivy's files, with a separate worker)."""


class Engine(Protocol):
    def write(self, documents: list[Document], removed: list[str]) -> None:
        """Store these documents (replacing any of the same id) and drop the removed ids,
        at once: a search sees all of it or none of it. IndexBusy: another process
        writes it."""

    def search(self, request: Request) -> Result: ...

    def terms(
        self, prefix: str, keys: list[str], limit: int, keep: Callable[[str], bool]
    ) -> list[tuple[str, int]]:
        """Among the ``limit`` most frequent indexed terms starting with ``prefix``, those
        that ``keep`` accepts in what the keys let one find, with the number of such
        documents holding each (an engine may stop counting at a cap), most frequent
        first."""

    def document_frequency(self, term: str) -> int:
        """In how many documents the term is (for "did you mean")."""

    def clear(self) -> None: ...

    def bulk(self) -> AbstractContextManager[None]:
        """Around a rebuild's writes: whatever makes many writes faster (searches meanwhile
        see the index fill up, perhaps slowly)."""


@cache
def _engine(name: str, location: str) -> Engine:
    if name == "postgresql":
        from .postgres_engine import PostgresEngine

        return PostgresEngine()
    from .tantivy_engine import TantivyEngine

    return TantivyEngine(location)


def engine() -> Engine:
    """The engine of ``settings.SEARCH_ENGINE``: tantivy (an index in files, beside SQLite)
    or the engine inside PostgreSQL."""
    return _engine(settings.SEARCH_ENGINE, str(settings.SEARCH_INDEX_DIR))

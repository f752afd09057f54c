"""Search API: one search over everything the caller may see, and suggestions while
typing. Thin: the selectors decide what each caller finds."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from essaim.api_base import offset_page, viewer
from essaim.directory.api import PersonCard, card

from . import selectors
from .engine import Filters, day_bound
from .query import QUERY_MAX

router = Router(tags=["search"])

Kind = Literal["post", "comment", "question", "answer", "article", "message", "community", "file"]
State = Literal["open", "answered", "accepted", "duplicate"]


class SearchParams(Schema):
    q: str = Field("", max_length=QUERY_MAX, description='words, "phrases", -excluded, a OR b')
    kind: list[Kind] = Field([], max_length=8)
    community: list[int] = Field([], max_length=20)
    author: list[int] = Field([], max_length=20)
    tag: list[str] = Field([], max_length=20)
    state: list[State] = Field([], max_length=4, description="questions' state")
    has_file: bool | None = None
    since: datetime.date | None = None
    until: datetime.date | None = None
    language: Literal["fr", "en"] = Field("en", description="the searcher's, for stop words")
    page_size: int = Field(selectors.PAGE_SIZE, ge=1, le=50)
    cursor: str | None = Field(None, max_length=100)


class ResultOut(Schema):
    kind: Kind
    id: int
    title: str
    snippet: str = Field(description="HTML: the text escaped, matched words in <mark>")
    url: str
    score: float
    reasons: list[str] = Field(description="why it ranks here: recent, popular, accepted…")


class SearchOut(Schema):
    results: list[ResultOut]
    total: int
    more: bool = Field(description="more matches than counted: total is a lower bound")
    facets: dict[str, dict[str, int]]
    suggestion: str
    corrected: bool
    some_words: bool = Field(description="nothing held every word: these hold some of them")
    next: str | None
    previous: str | None


class SuggestOut(Schema):
    people: list[PersonCard]
    communities: list[ResultOut]
    questions: list[ResultOut]


def _result(found: selectors.Found) -> dict[str, Any]:
    return {
        "kind": found.kind,
        "id": found.obj.pk,
        "title": found.title,
        "snippet": found.snippet,
        "url": found.url,
        "score": round(found.score, 4),
        "reasons": found.reasons,
    }


@router.get("/search", response=SearchOut, summary="Search everything one may see")
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    page = offset_page(request, params.cursor, params.page_size)
    filters = Filters(
        kinds=list(params.kind),
        communities=params.community,
        authors=params.author,
        tags=params.tag,
        states=list(params.state),
        has_file=params.has_file,
        since=day_bound(params.since, end=False),
        until=day_bound(params.until, end=True),
    )
    found = selectors.search(
        viewer(request),
        params.q,
        filters=filters,
        offset=page.offset,
        limit=params.page_size,
        language=params.language,
    )
    return {
        **page.links(min(found.total, selectors.CANDIDATES)),
        "results": [_result(f) for f in found.results],
        "total": found.total,
        "more": found.more,
        "facets": found.facets,
        "suggestion": found.suggestion,
        "corrected": found.corrected,
        "some_words": found.some_words,
    }


class SuggestParams(Schema):
    q: str = Field(max_length=QUERY_MAX, description="what is typed so far")
    language: Literal["fr", "en"] = "en"


@router.get("/search/suggest", response=SuggestOut, summary="Suggestions while typing")
def suggest(request: HttpRequest, params: Query[SuggestParams]) -> dict[str, Any]:
    me = viewer(request)
    found = selectors.suggest(me, params.q, language=params.language)
    return {
        "people": [card(me, person) for person in found.people],
        "communities": [_result(f) for f in found.communities],
        "questions": [_result(f) for f in found.questions],
    }

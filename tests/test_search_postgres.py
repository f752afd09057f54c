"""The search engine inside PostgreSQL: its walk of the posting lists, which stops early,
finds the same best documents as scoring every document would, and its tables follow
every write. (The rest of the search suite runs on it too when the database is
PostgreSQL.)"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from django.db import connection

from essaim.communities.models import Visibility
from essaim.content import services as content
from essaim.search import postgres_engine
from essaim.search.analysis import analyse
from essaim.search.documents import Document
from essaim.search.engine import Filters, Request, engine
from essaim.search.indexer import index_pending
from essaim.search.query import parse
from tests.conftest import Personas
from tests.test_communities import build

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the engine inside PostgreSQL"),
]

WORDS = [f"w{rank}" for rank in range(40)]
KEYS = ["employees", "c1", "c2", "c3"]


def corpus(count: int, seed: int = 3) -> list[Document]:
    """Documents whose words follow Zipf's law, each in one of KEYS."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    docs = []
    for pk in range(1, count + 1):
        title = " ".join(rng.choices(WORDS, weights, k=rng.randint(1, 4)))
        body = " ".join(rng.choices(WORDS, weights, k=rng.randint(3, 30)))
        docs.append(
            Document(
                kind=rng.choice(["post", "comment", "question"]),
                pk=pk,
                title=analyse(title, "en"),
                body=analyse(body, "en"),
                keys=[rng.choice(KEYS)],
                created_at=datetime(2026, 1, 1 + pk % 28, tzinfo=UTC),
                community_id=rng.randint(1, 3),
                tags=rng.sample(["a", "b", "c"], rng.randint(0, 2)),
            )
        )
    return docs


def every_document(request: Request) -> list[tuple[str, float]]:
    """The best documents by scoring every one the keys and filters leave (the engine's
    narrow-filter path, given all of them)."""
    wide = Filters(**{**request.filters.__dict__, "communities": [1, 2, 3]})
    return best(Request(request.query, request.keys, wide, request.limit, False, request.minimum))


def best(request: Request) -> list[tuple[str, float]]:
    return [(f"{hit.kind}:{hit.pk}", round(hit.score, 6)) for hit in engine().search(request).hits]


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> list[Document]:
    # Small rounds, so that a walk takes many and its stopping rule decides.
    monkeypatch.setattr(postgres_engine, "FIRST_BATCH", 2)
    docs = corpus(400)
    engine().write(docs, [])
    return docs


def test_the_walk_finds_what_scoring_every_document_finds(
    indexed: list[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert type(engine()).__name__ == "PostgresEngine"
    # Its stopping rule alone: no budget (the budget's own test is below).
    monkeypatch.setattr(postgres_engine, "WALK_BUDGET", 10**9)
    monkeypatch.setattr(postgres_engine, "READ_PER_RESULT", 10**9)
    rng = random.Random(5)
    texts = [*WORDS[:12], "w0 w1", "w0 w25", "w3 OR w30", '"w0 w1"', "w1 -w2", "w0 w1 w2 w3"]
    texts += ['"w5 w0"', '"w0 w39"', "w0 w1 qqq*", "w1 w2*", "w3 -w0 w1"]
    texts += [f"{rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(20)]
    for text in texts:
        for keys in (KEYS, ["c2"]):
            for limit in (1, 5, 20):
                query = parse(text, language="en")
                minimum = 2 if len(query.must) > 2 else None
                request = Request(query, keys, limit=limit, minimum=minimum)
                walked, scored = best(request), every_document(request)
                # Equal scores may come in either order; the scores themselves may not.
                assert [s for _r, s in walked] == [s for _r, s in scored], text
                assert set(walked) <= set(
                    every_document(Request(query, keys, limit=400, minimum=minimum))
                ), text


def test_counts_are_exact_when_read_through_and_a_lower_bound_otherwise(
    indexed: list[Document],
) -> None:
    query = parse("w0", language="en")
    everything = engine().search(Request(query, KEYS, limit=400))
    holding = [d for d in indexed if "w0" in {t for _p, t in d.title.terms + d.body.terms}]
    assert (everything.total, everything.more) == (len(holding), False)
    top = engine().search(Request(query, KEYS, limit=3, facets=True))
    assert top.more and 3 <= top.total < len(holding)
    assert sum(top.facets["kind"].values()) == top.total
    rare = engine().search(Request(parse("w39", language="en"), ["c1"], limit=3))
    assert not rare.more or rare.total >= 3


def test_filters_keep_their_documents_on_both_paths(indexed: list[Document]) -> None:
    query = parse("w0", language="en")
    for filters in (
        Filters(kinds=["question"]),
        Filters(tags=["a"]),
        Filters(communities=[2]),
        Filters(documents=["post:1", "post:2", "comment:3"]),
        Filters(since=datetime(2026, 1, 10, tzinfo=UTC), until=datetime(2026, 1, 12, tzinfo=UTC)),
    ):
        hits = engine().search(Request(query, KEYS, filters, limit=400)).hits
        by_id = {d.id: d for d in indexed}
        for hit in hits:
            doc = by_id[f"{hit.kind}:{hit.pk}"]
            assert not filters.kinds or doc.kind in filters.kinds
            assert not filters.tags or set(doc.tags) & set(filters.tags)
            assert not filters.communities or doc.community_id in filters.communities
            assert not filters.documents or doc.id in filters.documents
            assert not filters.since or filters.since <= doc.created_at <= filters.until


def test_rewriting_and_dropping_documents_keep_the_tables_in_step(
    indexed: list[Document],
) -> None:
    search = engine()
    before = search.document_frequency("w0")
    first = indexed[0]
    holds_w0 = "w0" in {t for _p, t in first.title.terms + first.body.terms}
    rewritten = Document(
        first.kind, first.pk, analyse("zephyr", "en"), analyse("zephyr", "en"), ["c9"],
        first.created_at,
    )  # fmt: skip
    search.write([rewritten], [])
    assert search.document_frequency("zephyr") == 1
    assert search.document_frequency("w0") == before - holds_w0
    assert search.terms("zep", ["c9"], 5, lambda term: True) == [("zephyr", 1)]
    assert search.terms("zep", KEYS, 5, lambda term: True) == []  # not the keys' term
    assert search.terms("zep", ["c9"], 5, lambda term: term != "zephyr") == []
    search.write([], [first.id])
    assert search.document_frequency("zephyr") == 0
    assert search.search(Request(parse("zephyr", language="en"), ["c9"])).hits == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(title_words + body_words) FROM search_pg_doc")
        documents, words = cursor.fetchone()
        cursor.execute("SELECT documents, title_words + body_words FROM search_pg_stat")
        assert cursor.fetchone() == (documents, words)
        cursor.execute(
            "SELECT count(*) FROM search_pg_posting WHERE doc NOT IN (SELECT id FROM search_pg_doc)"
        )
        assert cursor.fetchone() == (0,)


def test_a_rebuild_drops_the_walk_indexes_and_builds_them_again(
    indexed: list[Document],
) -> None:
    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'search_pg_posting'")
            return {row[0] for row in cursor.fetchall()}

    walk = {"search_pg_walk", "search_pg_walk_few"}
    with engine().bulk():
        assert not indexes() & walk
        engine().write(corpus(5, seed=9), [])
    assert walk <= indexes()
    with connection.cursor() as cursor:  # analysed: the walk's plan needs the statistics
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'search_pg_posting'")
        assert cursor.fetchone()[0] > 0
    assert best(Request(parse("w0", language="en"), KEYS, limit=3))


def test_the_page_and_the_api_say_when_more_matched_than_were_counted(
    personas: Personas, signed_in, token_client
) -> None:
    public = build(personas, Visibility.PUBLIC)
    secret = build(personas, Visibility.SECRET)
    for n in range(230):
        filler = " autre" * (n % 7)  # lengths differ, so do the weights
        content.post_create(actor=personas.member, community=public, body=f"Zeppelin{filler}")
    content.post_create(actor=personas.member, community=secret, body="Zeppelin secret")
    index_pending()
    answer = token_client(personas.outsider).get("/api/v1/search", {"q": "zeppelin"}).json()
    assert answer["more"] is True and 200 <= answer["total"] < 230
    assert answer["facets"]["community"] == {str(public.pk): answer["total"]}
    page = signed_in(personas.outsider).get("/search/", {"q": "zeppelin"}).content.decode()
    assert f"More than {answer['total']} results" in page
    # One community's documents are few enough to be all scored: the count is exact.
    one = {"q": "zeppelin", "community": public.pk}
    answer = token_client(personas.outsider).get("/api/v1/search", one).json()
    assert (answer["total"], answer["more"]) == (230, False)


def test_a_document_with_several_keys_is_found_by_a_holder_of_any() -> None:
    # Its postings carry no key (one key only fits the walk's index): the walk reads its row.
    now = datetime(2026, 1, 1, tzinfo=UTC)
    words = analyse("zenith report", "en")
    engine().write(
        [
            Document("post", 1, words, words, ["announcements", "u5", "s2"], now),
            Document("post", 2, words, words, ["c1"], now),
        ],
        [],
    )
    query = parse("zenith", language="en")
    for keys, found in ((["u5"], {1}), (["s2", "c1"], {1, 2}), (["c1"], {2}), (["c9"], set())):
        assert {hit.pk for hit in engine().search(Request(query, keys)).hits} == found, keys
        counted = engine().terms("zen", keys, 5, lambda term: True)
        assert counted == ([("zenith", len(found))] if found else []), keys


def test_what_copy_and_arrays_escape_is_written_and_read_back_as_given() -> None:
    # The engine writes COPY's text format itself: quotes, backslashes, tabs, braces,
    # commas and the word NULL in tags and keys come back unchanged.
    tags = ['a"b', "c\\d", "x,y", "{z}", "NULL", "tab\there", "line\nbreak", ""]
    keys = ["k\\1\t", 'q"']
    words = analyse("zodiac", "en")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    engine().write([Document("post", 1, words, words, keys, now, tags=tags)], [])
    engine().write([Document("post", 2, words, words, [keys[0]], now, author_id=7)], [])
    with connection.cursor() as cursor:
        cursor.execute("SELECT keys, tags, author, created FROM search_pg_doc ORDER BY ref")
        assert cursor.fetchall() == [(keys, tags, None, now), ([keys[0]], [], 7, now)]
        cursor.execute("SELECT DISTINCT key FROM search_pg_posting ORDER BY key")
        assert cursor.fetchall() == [(keys[0],), (None,)]
    for tag in tags[:-1]:
        only = Filters(tags=[tag])
        found = engine().search(Request(parse("zodiac", language="en"), keys, only)).hits
        assert [hit.pk for hit in found] == [1], tag


def test_the_walk_stops_at_its_budget_with_the_best_of_what_it_met(
    indexed: list[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = parse("w0 w1", language="en")
    whole = engine().search(Request(query, KEYS, limit=20))
    monkeypatch.setattr(postgres_engine, "WALK_BUDGET", 12)
    cut = engine().search(Request(query, KEYS, limit=20))
    assert cut.more and 0 < cut.total < whole.total
    scores = [hit.score for hit in cut.hits]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == whole.hits[0].score  # the best weigh most in some list: met first


def test_a_prefix_of_no_indexed_word_finds_nothing(indexed: list[Document]) -> None:
    for text in ("zzq", "w0 zzq", "zzq w0"):
        typed = parse(text, language="en", as_you_type=True)
        assert engine().search(Request(typed, KEYS)).hits == [], text

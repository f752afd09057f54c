"""Essaim's search engine inside PostgreSQL (``essaim/search/postgres_engine.py``) alone,
on the synthetic corpus of the other engines' benchmarks (``search_corpus.py``), so that
its figures sit beside theirs in bench/README.md.

Documents are written through the engine (``write``, in batches, as ``essaim
search_rebuild`` does) into a throwaway database ``search_bench_pg_engine`` on the server
of ``--database-url``; each corpus scope becomes an access key (``employees`` for scope
0, a community's ``c<n>`` otherwise). The searcher holds the keys of 50 scopes and of
``--readable`` (2,000) more communities with nothing indexed, as an employee of a large
company may read thousands of communities. Then, best of three passes, the top 10 and the
top 200 (what a result page asks for) for words rotated from the most common to the
rarest, AND pairs, and as-you-type prefixes (the last word a prefix, limited to one kind,
as suggestions are).

    .venv/bin/python bench/engine_postgres.py                 # 2,000,000 documents
    .venv/bin/python bench/engine_postgres.py --docs 100000   # a quick run
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines_embedded import best_pass, percentile, prefix_queries
from search_corpus import documents, query_pairs, query_words, searcher_scopes

DATABASE = "search_bench_pg_engine"
BATCH = 2_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2_000_000)
    parser.add_argument("--readable", type=int, default=2_000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="search the kept database")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    server = args.database_url.rsplit("/", 1)[0]
    if not args.reuse:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
            admin.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = f"{server}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from essaim.search.engine import engine

    call_command("migrate", verbosity=0)
    search = engine()
    assert type(search).__name__ == "PostgresEngine"

    if not args.reuse:
        write(args, search)
    search_figures(args, search)


def write(args: argparse.Namespace, search: Any) -> None:
    from django.db import connection

    from essaim.search.analysis import Analysed
    from essaim.search.documents import Document

    def analysed(text: str) -> Analysed:  # the corpus's words come analysed
        found = text.split()
        return Analysed("en", list(enumerate(found)), found)

    now = datetime.now(UTC)
    started = time.perf_counter()
    batch: list[Document] = []
    with search.bulk():  # as essaim search_rebuild does
        for doc in documents(args.docs):
            key = "employees" if doc.scope == 0 else f"c{doc.scope}"
            kind = "question" if doc.id % 50 == 0 else "post"  # 2 %, for suggestions
            batch.append(
                Document(
                    kind, doc.id, analysed(doc.title), analysed(doc.body), [key],
                    now - timedelta(seconds=doc.created), community_id=doc.scope or None,
                )
            )  # fmt: skip
            if len(batch) == BATCH:
                search.write(batch, [])
                batch = []
                if doc.id % 200_000 == 0:
                    rate = doc.id / (time.perf_counter() - started)
                    print(f"  {doc.id:,} documents written ({rate:,.0f}/s)", flush=True)
        search.write(batch, [])
        rows = time.perf_counter()
    print(
        f"  rows written in {rows - started:.0f} s,"
        f" indexes built in {time.perf_counter() - rows:.0f} s"
    )
    written = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0] / 2**20
    print(
        f"written: {args.docs:,} documents in {written:.0f} s ({args.docs / written:,.0f}/s);"
        f" database {size:,.0f} MB"
    )


def search_figures(args: argparse.Namespace, search: Any) -> None:
    from essaim.search.engine import Filters, Request
    from essaim.search.query import parse

    scopes = searcher_scopes()
    keys = ["employees", *(f"c{s}" for s in scopes if s), *(f"c{-n}" for n in range(args.readable))]
    words = query_words()
    pairs = [f"{a} {b}" for a, b in query_pairs()]
    typed = [f"{first} {prefix}" for first, prefix in prefix_queries()]

    def ask(text: str, limit: int, *, prefix: bool = False, kinds: list[str] | None = None):
        query = parse(text, language="en", as_you_type=prefix)
        minimum = None if len(query.must) <= 2 else 2
        filters = Filters(kinds=kinds or [])
        request = Request(query, keys, filters, limit, facets=limit > 10, minimum=minimum)
        return search.search(request)

    common = ask(words[0], 10)
    print(
        f"searcher: {len(keys):,} keys ({len(scopes)} scopes with documents); most common word"
        f" matched (counted before the best 10 were known): {common.total:,}+"
    )
    rows = [
        ("words, top 10", best_pass(lambda t: ask(t, 10), words, args.passes)),
        ("words, top 200 + facets", best_pass(lambda t: ask(t, 200), words, args.passes)),
        ("AND pairs, top 10", best_pass(lambda t: ask(t, 10), pairs, args.passes)),
        ("AND pairs, top 200 + facets", best_pass(lambda t: ask(t, 200), pairs, args.passes)),
        (
            "as you type, questions, top 5",
            best_pass(lambda t: ask(t, 5, prefix=True, kinds=["question"]), typed, args.passes),
        ),
        (
            "as you type, all kinds, top 10",
            best_pass(lambda t: ask(t, 10, prefix=True), typed, args.passes),
        ),
    ]
    print(f"{'query':<34} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, times in rows:
        p50, p95, top = (1000 * percentile(times, p) for p in (50, 95, 100))
        print(f"{name:<34} {len(times):>3} {p50:>8.1f} {p95:>8.1f} {top:>8.1f}")
    slow = sorted(words + pairs, key=lambda t: -min(timed(lambda: ask(t, 200)) for _ in range(2)))[
        :5
    ]
    print("slowest top-200 queries:", ", ".join(slow))


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

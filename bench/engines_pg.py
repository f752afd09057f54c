"""PostgreSQL full-text search variants on the synthetic corpus (``search_corpus.py``).

One table ``docs`` holds the documents and a generated ``tsvector`` ('simple' configuration,
title weighted 'A', body 'B') to which the document's access scope is added as a lexeme
(``s<scope>``, no position), so that the same column serves every variant:

(a) GIN index, ``ts_rank`` ORDER BY ... LIMIT 10, ``scope = ANY(...)`` in WHERE; and the same
    with the scopes matched as lexemes inside the GIN scan;
(b) RUM index (``rum_tsvector_ops``), ORDER BY ``tsv <=> query`` LIMIT 10, scope in WHERE (as
    the planner likes it, and forced to RUM's ordered index scan);
(c) RUM with the scopes ANDed into the index condition as lexemes, so the index filters, ordered
    by the distance to the text-only query (ordering by the scoped query ranks nothing: the scope
    lexemes have no positions);
(d) RUM candidates (b), top ``--candidates``, re-ranked by BM25 in SQL from a term-statistics
    table (``ts_stat``): IDF, saturated term frequency, title x2, length normalisation.

Needs the RUM extension (Debian: ``apt-get install postgresql-15-rum``). Creates and drops a
throwaway database ``search_bench_engines`` on ``--dsn``'s server.

    .venv/bin/python bench/engines_pg.py                  # 2,000,000 documents
    .venv/bin/python bench/engines_pg.py --docs 50000     # a quick run
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engines_embedded import (
    Row,
    best_pass,
    corpus_tsv,
    percentile,
    prefix_queries,
    print_rows,
)
from search_corpus import query_pairs, query_words, searcher_scopes

DATABASE = "search_bench_engines"
TOP = 10

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS rum;
CREATE TABLE docs (
    id bigint PRIMARY KEY,
    scope integer NOT NULL,
    created integer NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, body), 'B')
        || array_to_tsvector(ARRAY['s' || scope])
    ) STORED
);
"""

# ts_rank's default weights are {D 0.1, C 0.2, B 0.4, A 1.0}: the title counts 2.5x the body.
SQL = {
    "gin": """
        SELECT id FROM docs
        WHERE tsv @@ %(text)s::tsquery AND scope = ANY(%(scopes)s)
        ORDER BY ts_rank(tsv, %(text)s::tsquery) DESC LIMIT 10""",
    "gin_lexemes": """
        SELECT id FROM docs
        WHERE tsv @@ %(scoped)s::tsquery
        ORDER BY ts_rank(tsv, %(text)s::tsquery) DESC LIMIT 10""",
    "rum": """
        SELECT id FROM docs
        WHERE tsv @@ %(text)s::tsquery AND scope = ANY(%(scopes)s)
        ORDER BY tsv <=> %(text)s::tsquery LIMIT 10""",
    "rum_lexemes": """
        SELECT id FROM docs
        WHERE tsv @@ %(scoped)s::tsquery
        ORDER BY tsv <=> %(text)s::tsquery LIMIT 10""",
    # BM25 (k1 = 1.2, b = 0.75) over RUM's best candidates; tf counts title occurrences twice,
    # the document length is its number of distinct lexemes.
    "rum_bm25": """
        WITH candidates AS MATERIALIZED (
            SELECT id, tsv FROM docs
            WHERE tsv @@ %(text)s::tsquery AND scope = ANY(%(scopes)s)
            ORDER BY tsv <=> %(text)s::tsquery LIMIT %(candidates)s
        )
        SELECT c.id FROM candidates c, LATERAL (
            SELECT sum(
                ln(1 + (%(total)s - s.ndoc + 0.5) / (s.ndoc + 0.5))
                * t.tf * 2.2 / (t.tf + 1.2 * (0.25 + 0.75 * length(c.tsv) / %(avglen)s))
            ) AS score
            FROM (
                SELECT u.lexeme,
                       2 * cardinality(array_positions(u.weights, 'A'))
                       + cardinality(array_positions(u.weights, 'B')) AS tf
                FROM unnest(c.tsv) u WHERE u.lexeme = ANY(%(terms)s)
            ) t JOIN term_stats s ON s.word = t.lexeme
        ) r
        ORDER BY r.score DESC LIMIT 10""",
    "count": "SELECT count(*) FROM docs WHERE tsv @@ %(text)s::tsquery AND scope = ANY(%(scopes)s)",
    "count_lexemes": "SELECT count(*) FROM docs WHERE tsv @@ %(scoped)s::tsquery",
}


class Bench:
    def __init__(self, conn: psycopg.Connection, passes: int, candidates: int):
        self.conn = conn
        self.passes = passes
        self.candidates = candidates
        self.use_scopes(searcher_scopes())
        self.stats = {"total": 1, "avglen": 1.0}

    def params(self, terms: list[str], prefix: str | None = None) -> dict:
        text = " & ".join(terms + ([f"{prefix}:*"] if prefix else []))
        return {
            "text": text,
            "scoped": f"{text} & ({self.any_scope})",
            "scopes": self.scopes,
            "terms": terms,
            "candidates": self.candidates,
            **self.stats,
        }

    def run(self, sql: str, params: dict) -> list:
        return self.conn.execute(sql, params).fetchall()

    def use_scopes(self, scopes: list[int]) -> None:
        self.scopes = scopes
        self.any_scope = " | ".join(f"s{scope}" for scope in scopes)

    def measure(
        self,
        name: str,
        sqls: list[str],
        settings: str = "",
        kinds: tuple[str, ...] = ("word", "pair", "prefix"),
        passes: int | None = None,
        timeout_ms: int = 5000,
    ) -> list[Row]:
        """Words, pairs and as-you-type prefixes through each of ``sqls`` (run in turn).

        A query cancelled by ``timeout_ms`` counts as that long (a lower bound)."""
        self.conn.execute(f"SET statement_timeout = {timeout_ms}")
        if settings:
            self.conn.execute(settings)
        queries = {
            "word": [self.params([w]) for w in query_words()],
            "pair": [self.params(list(p)) for p in query_pairs()],
            "prefix": [self.params([first], prefix) for first, prefix in prefix_queries()],
        }
        timeouts = set()

        def run_sqls(params: dict) -> None:
            try:
                for sql in sqls:
                    self.run(sql, params)
            except psycopg.errors.QueryCanceled:
                timeouts.add(params["text"])

        rows: list[Row] = []
        for kind in kinds:
            timeouts.clear()
            label = kind + (" + count" if len(sqls) > 1 else "")
            times = best_pass(run_sqls, queries[kind], passes or self.passes)
            note = f"{len(timeouts)} cancelled at {timeout_ms} ms" if timeouts else ""
            rows.append((name, label, times, note))
        self.conn.execute("RESET ALL")
        return rows

    def plan(self, sql: str, params: dict) -> str:
        lines = self.run("EXPLAIN " + sql, params)
        return " / ".join(line[0].strip() for line in lines if "Scan" in line[0])


def timed(conn: psycopg.Connection, sql: str) -> float:
    started = time.perf_counter()
    conn.execute(sql)
    return time.perf_counter() - started


def size_mb(conn: psycopg.Connection, relation: str) -> float:
    return conn.execute("SELECT pg_total_relation_size(%s)", (relation,)).fetchone()[0] / 2**20


def visible_ids(bench: Bench, sql: str, words: list[str]) -> list[set[int]]:
    return [{row[0] for row in bench.run(sql, bench.params([w]))} for w in words]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2_000_000)
    parser.add_argument("--passes", type=int, default=3, help="report the best of N passes")
    parser.add_argument("--candidates", type=int, default=100, help="RUM candidates for BM25")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    corpus = corpus_tsv(args.docs)
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    dsn = make_conninfo(args.dsn, dbname=DATABASE)
    try:
        with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
            benchmark(conn, corpus, args)
    finally:
        if not args.keep:
            with psycopg.connect(args.dsn, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def benchmark(conn: psycopg.Connection, corpus: Path, args: argparse.Namespace) -> None:
    version = conn.execute("SHOW server_version").fetchone()[0]
    buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    print(f"{args.docs:,} documents on PostgreSQL {version} (shared_buffers {buffers})")
    conn.execute(SCHEMA)
    conn.execute("SET maintenance_work_mem = '1GB'")
    info: list[str] = []

    started = time.perf_counter()
    with (
        conn.cursor() as cursor,
        cursor.copy("COPY docs (id, scope, created, title, body) FROM STDIN") as copy,
        corpus.open("rb") as source,
    ):
        while chunk := source.read(1 << 20):
            copy.write(chunk)
    info.append(f"COPY with the generated tsvector: {time.perf_counter() - started:.0f} s")
    info.append(f"VACUUM ANALYZE: {timed(conn, 'VACUUM ANALYZE docs'):.0f} s")
    info.append(f"table (heap + TOAST + primary key): {size_mb(conn, 'docs'):,.0f} MB")

    bench = Bench(conn, args.passes, args.candidates)
    words = query_words()
    rows: list[Row] = []

    # (a) GIN + ts_rank.
    seconds = timed(conn, "CREATE INDEX docs_gin ON docs USING gin (tsv)")
    info.append(f"GIN build: {seconds:.0f} s, {size_mb(conn, 'docs_gin'):,.0f} MB")
    common = bench.run(SQL["count"], bench.params(words[:1]))[0][0]
    info.append(f"visible documents with the most common word: {common:,}")
    info.append("plan (a): " + bench.plan(SQL["gin"], bench.params(words[:1])))
    gin_top = visible_ids(bench, SQL["gin"], words[:5])
    rows += bench.measure("(a) GIN ts_rank", [SQL["gin"]])
    rows += bench.measure("(a) GIN ts_rank", [SQL["gin"], SQL["count"]], kinds=("word", "pair"))
    rows += bench.measure("(a') GIN lexeme scopes", [SQL["gin_lexemes"]])
    conn.execute("DROP INDEX docs_gin")

    # (b), (c) RUM.
    seconds = timed(conn, "CREATE INDEX docs_rum ON docs USING rum (tsv rum_tsvector_ops)")
    info.append(f"RUM build: {seconds:.0f} s, {size_mb(conn, 'docs_rum'):,.0f} MB")
    conn.execute("ANALYZE docs")
    info.append("plan (b): " + bench.plan(SQL["rum"], bench.params(words[:1])))
    info.append("plan (c): " + bench.plan(SQL["rum_lexemes"], bench.params(words[:1])))
    rum_top = visible_ids(bench, SQL["rum"], words[:5])
    rows += bench.measure("(b) RUM <=>, planner", [SQL["rum"]])
    rows += bench.measure(
        "(b) RUM <=>, forced", [SQL["rum"]], "SET enable_bitmapscan = off; SET enable_seqscan = off"
    )
    # Scopes as lexemes ORed in RUM's scan are slow: one pass, words only.
    rows += bench.measure("(c) RUM lexeme scopes", [SQL["rum_lexemes"]], kinds=("word",), passes=1)
    lexeme_top = visible_ids(bench, SQL["rum_lexemes"], words[:5])
    # A searcher who sees few documents: 50 private scopes, not the public one (~0.7%).
    bench.use_scopes(searcher_scopes()[1:])
    few = "SET enable_bitmapscan = off; SET enable_seqscan = off"
    rows += bench.measure("(b) forced, 50 private", [SQL["rum"]], few, ("word",), passes=1)
    rows += bench.measure("(b) planner, 50 private", [SQL["rum"]], kinds=("word",), passes=1)
    rows += bench.measure(
        "(c) lexemes, 50 private", [SQL["rum_lexemes"]], kinds=("word",), passes=1
    )
    bench.use_scopes(searcher_scopes())

    # (d) BM25 re-ranking of RUM's candidates.
    started = time.perf_counter()
    conn.execute(
        "CREATE TABLE term_stats AS SELECT word, ndoc FROM ts_stat('SELECT tsv FROM docs')"
    )
    conn.execute("ALTER TABLE term_stats ADD PRIMARY KEY (word)")
    total, avglen = conn.execute("SELECT count(*), avg(length(tsv)) FROM docs").fetchone()
    bench.stats = {"total": total, "avglen": float(avglen)}
    info.append(
        f"term statistics (ts_stat): {time.perf_counter() - started:.0f} s,"
        f" {size_mb(conn, 'term_stats'):,.0f} MB"
    )
    rows += bench.measure(
        f"(d) RUM top {args.candidates} + BM25",
        [SQL["rum_bm25"]],
        "SET enable_bitmapscan = off; SET enable_seqscan = off",
        ("word", "pair"),
    )

    # An edited document: UPDATE, commit (autocommit), findable through the RUM index.
    updates = []
    for n in range(5):
        marker = f"zzedited{n}"
        started = time.perf_counter()
        conn.execute("UPDATE docs SET title = %s, scope = 0 WHERE id = %s", (marker, 1000 + n))
        found = bench.run(SQL["rum_lexemes"], bench.params([marker]))
        updates.append(time.perf_counter() - started)
        assert found == [(1000 + n,)], found
    rows.append(("RUM", "update: UPDATE, commit, findable", updates, "5 updates"))

    # Sanity: every variant applies the access filter, and how often their top 10s agree.
    allowed = set(bench.scopes)
    for top in gin_top + rum_top + lexeme_top:
        shown = conn.execute("SELECT scope FROM docs WHERE id = ANY(%s)", (list(top),)).fetchall()
        assert {row[0] for row in shown} <= allowed
    agree = [len(a & b) for a, b in zip(rum_top, lexeme_top, strict=True)]
    info.append(f"top-10 overlap (b) vs (c) on the 5 most common words: {agree} (ties reorder)")
    agree = [len(a & b) for a, b in zip(gin_top, rum_top, strict=True)]
    info.append(f"top-10 overlap (a) vs (b): {agree}")

    print("\n".join(info))
    print_rows(rows)
    slowest = max(rows, key=lambda row: percentile(row[2], 95))
    print(f"slowest p95: {slowest[0]} {slowest[1]}")


if __name__ == "__main__":
    main()

"""Embedded full-text search engines on the synthetic corpus (``search_corpus.py``).

(a) tantivy (tantivy-py): BM25 per field, title boosted x2, access scopes as a term-set filter
    inside the query; (b) SQLite FTS5 with ``bm25()`` (title weighted x2), the scopes filtered
    in the SQL either on an UNINDEXED column or as scope tokens matched inside FTS5.

Measures the index build time, size on disk, the RSS of a fresh process that opens the index,
search latency (p50/p95/max, best of ``--passes``) for single words, AND pairs, with an exact
count of the visible matches, search-as-you-type (previous word AND a 3-4 letter prefix), and
the time for an updated document to become findable.

    .venv/bin/python bench/engines_embedded.py                  # 2,000,000 documents
    .venv/bin/python bench/engines_embedded.py --docs 50000     # a quick run
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_corpus import query_pairs, query_words, searcher_scopes

TITLE_BOOST = 2.0
TOP = 10
# As-you-type: tantivy's expansion of a prefix is capped to its most frequent terms when scored.
MAX_EXPANSIONS = 50

Row = tuple[str, str, list[float], str]  # engine, query kind, latencies (s), note


# --- corpus -------------------------------------------------------------------------------


def corpus_tsv(count: int) -> Path:
    """The corpus as ``id scope created title body`` lines, generated once and cached in /tmp."""
    from search_corpus import documents

    path = Path(tempfile.gettempdir()) / f"search_corpus_{count}.tsv"
    if not path.exists():
        started = time.perf_counter()
        part = path.with_suffix(".part")
        with part.open("w") as out:
            for doc in documents(count):
                out.write(f"{doc.id}\t{doc.scope}\t{doc.created}\t{doc.title}\t{doc.body}\n")
        part.rename(path)
        print(f"corpus: {count:,} documents in {time.perf_counter() - started:.0f} s -> {path}")
    return path


def read_corpus(path: Path) -> Iterator[tuple[int, int, int, str, str]]:
    with path.open() as lines:
        for line in lines:
            id_, scope, created, title, body = line.rstrip("\n").split("\t")
            yield int(id_), int(scope), int(created), title, body


def prefix_queries() -> list[tuple[str, str]]:
    """(previous word, prefix being typed): each pair's second word cut to 3 and 4 letters."""
    return [(first, second[:n]) for first, second in query_pairs() for n in (3, 4)]


# --- measuring ----------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def best_pass(run: Callable[[object], object], queries: list, passes: int) -> list[float]:
    """Latencies of every query, from the pass with the lowest p95."""
    best: list[float] | None = None
    for _ in range(passes):
        times = []
        for query in queries:
            started = time.perf_counter()
            run(query)
            times.append(time.perf_counter() - started)
        if best is None or percentile(times, 95) < percentile(best, 95):
            best = times
    assert best is not None
    return best


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def in_child(function: Callable, *args):
    """Run in a fresh process, so that its RSS is the engine's alone."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


# --- tantivy ------------------------------------------------------------------------------


def tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("scope", indexed=True, fast=True)
    builder.add_integer_field("created", fast=True)
    # Words are already analysed: split on whitespace only. Frequencies, no positions.
    builder.add_text_field("title", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


def tantivy_build(corpus: Path, directory: Path) -> dict:
    import tantivy

    index = tantivy.Index(tantivy_schema(), path=str(directory))
    writer = index.writer(heap_size=256_000_000)
    started = time.perf_counter()
    for id_, scope, created, title, body in read_corpus(corpus):
        writer.add_document(
            tantivy.Document(id=id_, scope=scope, created=created, title=title, body=body)
        )
    added = time.perf_counter() - started
    writer.commit()
    writer.wait_merging_threads()
    built = time.perf_counter() - started
    index.reload()
    return {
        "add_s": added,
        "build_s": built,
        "segments": index.searcher().num_segments,
        "peak_rss_mb": peak_rss_mb(),
    }


class TantivyQueries:
    def __init__(self, index, scopes: list[int]):
        import tantivy

        self.tantivy = tantivy
        self.index = index
        self.schema = index.schema
        self.searcher = index.searcher()
        # Access filter: a term set on the indexed scope field, scored 0 so that it only filters.
        self.visible = tantivy.Query.const_score_query(
            tantivy.Query.term_set_query(self.schema, "scope", scopes), 0.0
        )

    def word(self, word: str):
        """``word`` in the title (boosted) or the body, BM25 per field."""
        q = self.tantivy.Query
        return q.boolean_query(
            [
                (
                    self.tantivy.Occur.Should,
                    q.boost_query(
                        q.term_query(self.schema, "title", word, index_option="freq"), TITLE_BOOST
                    ),
                ),
                (self.tantivy.Occur.Should, q.term_query(self.schema, "body", word, "freq")),
            ]
        )

    def all_of(self, *clauses, filtered: bool = True):
        must = self.tantivy.Occur.Must
        parts = [(must, clause) for clause in clauses]
        if filtered:
            parts.append((must, self.visible))
        return self.tantivy.Query.boolean_query(parts)

    def prefix_regex(self, prefix: str):
        """A constant-score prefix query walking the term dictionary with an automaton."""
        q, should = self.tantivy.Query, self.tantivy.Occur.Should
        pattern = f"{prefix}.*"
        return q.boolean_query(
            [
                (should, q.regex_query(self.schema, "title", pattern)),
                (should, q.regex_query(self.schema, "body", pattern)),
            ]
        )

    def expand(self, prefix: str, limit: int | None = None) -> list[str]:
        terms: dict[str, int] = {}
        for field in ("title", "body"):
            for term, count in self.searcher.terms_with_prefix(field, prefix, limit=limit):
                terms[term] = terms.get(term, 0) + count
        ordered = sorted(terms, key=terms.__getitem__, reverse=True)
        return ordered[:limit] if limit else ordered

    def prefix_term_set(self, prefix: str):
        """Every completion in the term dictionary, as constant-score term sets."""
        q, should = self.tantivy.Query, self.tantivy.Occur.Should
        terms = self.expand(prefix)
        return q.boolean_query(
            [
                (should, q.term_set_query(self.schema, "title", terms)),
                (should, q.term_set_query(self.schema, "body", terms)),
            ]
        )

    def prefix_scored(self, prefix: str):
        """The most frequent completions, each scored by BM25 like a typed word."""
        q, should = self.tantivy.Query, self.tantivy.Occur.Should
        return q.boolean_query(
            [(should, self.word(term)) for term in self.expand(prefix, MAX_EXPANSIONS)]
        )

    def top(self, query, count: bool = False):
        return self.searcher.search(query, TOP, count=count)


def tantivy_search(directory: Path, passes: int) -> dict:
    import tantivy

    before = rss_mb()
    index = tantivy.Index.open(str(directory))
    scopes = searcher_scopes()
    engine = TantivyQueries(index, scopes)
    opened = rss_mb()

    words, pairs, prefixes = query_words(), query_pairs(), prefix_queries()
    allowed = set(scopes)
    # Sanity: the access filter holds and the counts are exact.
    for word in words[:3]:
        result = engine.top(engine.all_of(engine.word(word)), count=True)
        shown = engine.searcher.fast_field_values("scope", [hit[1] for hit in result.hits])
        assert set(shown) <= allowed, shown
    common = engine.top(engine.all_of(engine.word(words[0])), count=True).count

    def run_word(word, count=False, filtered=True):
        return engine.top(engine.all_of(engine.word(word), filtered=filtered), count)

    def run_pair(pair, count=False):
        return engine.top(engine.all_of(engine.word(pair[0]), engine.word(pair[1])), count)

    rows: list[Row] = [
        (
            "tantivy",
            "word, no access filter",
            best_pass(lambda w: run_word(w, filtered=False), words, passes),
            "",
        ),
        ("tantivy", "word", best_pass(run_word, words, passes), ""),
        ("tantivy", "word + count", best_pass(lambda w: run_word(w, True), words, passes), ""),
        ("tantivy", "pair", best_pass(run_pair, pairs, passes), ""),
        ("tantivy", "pair + count", best_pass(lambda p: run_pair(p, True), pairs, passes), ""),
    ]
    # A searcher who sees few documents: 50 private scopes, not the public one (~0.7%).
    private = TantivyQueries(index, scopes[1:])
    rows.append(
        (
            "tantivy",
            "word, 50 private scopes",
            best_pass(lambda w: private.top(private.all_of(private.word(w))), words, passes),
            "",
        )
    )
    for label, make in (
        ("prefix (regex)", engine.prefix_regex),
        ("prefix (all terms, term set)", engine.prefix_term_set),
        (f"prefix (top {MAX_EXPANSIONS} terms, BM25)", engine.prefix_scored),
    ):

        def run_prefix(item, make=make):
            return engine.top(engine.all_of(engine.word(item[0]), make(item[1])))

        rows.append(("tantivy", label, best_pass(run_prefix, prefixes, passes), ""))
    expansions = [len(engine.expand(prefix)) for _, prefix in prefixes]
    rows.append(
        (
            "tantivy",
            "prefix expansion only",
            best_pass(lambda item: engine.expand(item[1]), prefixes, passes),
            f"{min(expansions)}-{max(expansions)} terms",
        )
    )
    searched = rss_mb()

    # An edited document: delete its old version, add the new one, commit, reload, find it.
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    updates = []
    for n in range(5):
        marker = f"zzedited{n}"
        started = time.perf_counter()
        writer.delete_documents_by_term("id", 1000 + n)
        writer.add_document(
            tantivy.Document(id=1000 + n, scope=0, created=0, title=marker, body="edited text")
        )
        writer.commit()
        index.reload()
        engine.searcher = index.searcher()
        found = engine.top(engine.all_of(engine.word(marker)), count=True).count
        updates.append(time.perf_counter() - started)
        assert found == 1, found
    writer.rollback()
    rows.append(("tantivy", "update: delete+add, commit, findable", updates, "5 updates"))
    return {
        "rows": rows,
        "rss_base_mb": before,
        "rss_open_mb": opened,
        "rss_after_queries_mb": searched,
        "common_visible": common,
        "segments": index.searcher().num_segments,
    }


# --- SQLite FTS5 --------------------------------------------------------------------------


def sqlite_build(corpus: Path, path: Path) -> dict:
    db = sqlite3.connect(path)
    db.executescript(
        """
        PRAGMA journal_mode = OFF;
        PRAGMA synchronous = OFF;
        PRAGMA cache_size = -262144;
        -- scope: the access scope, filtered in SQL; scope_token: 's<scope>', matched in FTS5.
        -- prefix='3 4': prefix indexes for search-as-you-type.
        CREATE VIRTUAL TABLE docs USING fts5(
            title, body, scope UNINDEXED, scope_token, created UNINDEXED,
            tokenize = 'ascii', prefix = '3 4'
        );
        """
    )
    started = time.perf_counter()
    db.executemany(
        "INSERT INTO docs (rowid, title, body, scope, scope_token, created)"
        " VALUES (?, ?, ?, ?, 's' || ?, ?)",
        (
            (id_, title, body, scope, scope, created)
            for id_, scope, created, title, body in read_corpus(corpus)
        ),
    )
    db.commit()
    loaded = time.perf_counter() - started
    db.execute("INSERT INTO docs (docs) VALUES ('optimize')")
    db.commit()
    built = time.perf_counter() - started
    db.close()
    return {"add_s": loaded, "build_s": built, "peak_rss_mb": peak_rss_mb()}


# bm25() weights per column: title, body, scope, scope_token, created.
SQLITE_RANK = "bm25(docs, 2.0, 1.0, 0.0, 0.0, 0.0)"


def sqlite_search(path: Path, passes: int) -> dict:
    before = rss_mb()
    db = sqlite3.connect(path)
    db.execute("PRAGMA cache_size = -65536")
    scopes = searcher_scopes()
    in_scopes = ", ".join(map(str, scopes))
    any_scope = " OR ".join(f"s{scope}" for scope in scopes)
    opened = rss_mb()

    def text(*terms: str) -> str:
        return " AND ".join(f"{{title body}} : {term}" for term in terms)

    def column_filter(match: str, count: bool = False):
        """The scope tested on an UNINDEXED column for each FTS5 match."""
        rows = db.execute(
            f"SELECT rowid FROM docs WHERE docs MATCH ? AND scope IN ({in_scopes})"
            f" ORDER BY {SQLITE_RANK} LIMIT {TOP}",
            (match,),
        ).fetchall()
        if count:
            db.execute(
                f"SELECT count(*) FROM docs WHERE docs MATCH ? AND scope IN ({in_scopes})",
                (match,),
            ).fetchone()
        return rows

    def token_filter(match: str, count: bool = False):
        """The scope matched as a token by FTS5 itself (weight 0 in bm25)."""
        match = f"({match}) AND scope_token : ({any_scope})"
        rows = db.execute(
            f"SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY {SQLITE_RANK} LIMIT {TOP}",
            (match,),
        ).fetchall()
        if count:
            db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()
        return rows

    words, pairs, prefixes = query_words(), query_pairs(), prefix_queries()
    allowed = set(scopes)
    for run in (column_filter, token_filter):
        ids = [row[0] for row in run(text(words[0]))]
        shown = db.execute(
            f"SELECT scope FROM docs WHERE rowid IN ({', '.join(map(str, ids))})"
        ).fetchall()
        assert {row[0] for row in shown} <= allowed
    common = db.execute(
        f"SELECT count(*) FROM docs WHERE docs MATCH ? AND scope IN ({in_scopes})",
        (text(words[0]),),
    ).fetchone()[0]

    def measure(name: str, run: Callable) -> list[Row]:
        return [
            (name, "word", best_pass(lambda w: run(text(w)), words, passes), ""),
            (name, "word + count", best_pass(lambda w: run(text(w), True), words, passes), ""),
            (name, "pair", best_pass(lambda p: run(text(*p)), pairs, passes), ""),
            (name, "pair + count", best_pass(lambda p: run(text(*p), True), pairs, passes), ""),
            (
                name,
                "prefix",
                best_pass(lambda item: run(text(item[0], f"{item[1]}*")), prefixes, passes),
                "",
            ),
        ]

    rows = measure("FTS5 scope column", column_filter) + measure("FTS5 scope tokens", token_filter)
    searched = rss_mb()

    updates = []
    for n in range(5):
        marker = f"zzedited{n}"
        started = time.perf_counter()
        with db:
            db.execute("DELETE FROM docs WHERE rowid = ?", (1000 + n,))
            db.execute(
                "INSERT INTO docs (rowid, title, body, scope, scope_token, created)"
                " VALUES (?, ?, 'edited text', 0, 's0', 0)",
                (1000 + n, marker),
            )
        found = column_filter(text(marker))
        updates.append(time.perf_counter() - started)
        assert len(found) == 1
    rows.append(("FTS5", "update: delete+insert, commit, findable", updates, "5 updates"))
    db.close()
    return {
        "rows": rows,
        "rss_base_mb": before,
        "rss_open_mb": opened,
        "rss_after_queries_mb": searched,
        "common_visible": common,
    }


# --- report -------------------------------------------------------------------------------


def print_rows(rows: list[Row]) -> None:
    print(f"{'engine':<24} {'query':<38} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  note")
    for engine, kind, times, note in rows:
        p50, p95, top = (1000 * percentile(times, p) for p in (50, 95, 100))
        print(
            f"{engine:<24} {kind:<38} {len(times):>3} {p50:>8.2f} {p95:>8.2f} {top:>8.2f}  {note}"
        )


def print_info(name: str, build: dict, size_mb: float, search: dict) -> None:
    print(f"\n== {name}")
    print(
        f"build: {build['build_s']:.1f} s (documents added in {build['add_s']:.1f} s),"
        f" peak RSS while building {build['peak_rss_mb']:.0f} MB, size on disk {size_mb:,.0f} MB"
        + (f", {build['segments']} segment(s)" if "segments" in build else "")
    )
    print(
        f"search process RSS: {search['rss_base_mb']:.0f} MB bare Python,"
        f" {search['rss_open_mb']:.0f} MB after opening, "
        f"{search['rss_after_queries_mb']:.0f} MB after the queries (mapped pages included);"
        f" visible documents with the most common word: {search['common_visible']:,}"
    )
    print_rows(search["rows"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2_000_000)
    parser.add_argument("--passes", type=int, default=3, help="report the best of N passes")
    parser.add_argument("--engines", default="tantivy,sqlite", help="comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep the indexes in /tmp")
    args = parser.parse_args()
    engines = args.engines.split(",")

    corpus = corpus_tsv(args.docs)
    workdir = Path(tempfile.mkdtemp(prefix="search_bench_"))
    print(
        f"{args.docs:,} documents, {len(searcher_scopes())} visible scopes, {os.cpu_count()} CPUs"
    )
    try:
        if "tantivy" in engines:
            directory = workdir / "tantivy"
            directory.mkdir()
            build = in_child(tantivy_build, corpus, directory)
            search = in_child(tantivy_search, directory, args.passes)
            print_info("tantivy", build, dir_size_mb(directory), search)
        if "sqlite" in engines:
            path = workdir / "fts5.sqlite3"
            build = in_child(sqlite_build, corpus, path)
            size = dir_size_mb(path)
            search = in_child(sqlite_search, path, args.passes)
            print_info("SQLite FTS5", build, size, search)
    finally:
        if args.keep:
            print(f"indexes kept in {workdir}")
        else:
            shutil.rmtree(workdir)


if __name__ == "__main__":
    main()

"""The search engine inside PostgreSQL, for deployments whose web processes run on several
machines: its tables (``search.postgres.models``) live beside the data, replicated and
backed up with it, and every process reads the same index.

PostgreSQL's own ranking (``ts_rank`` over a GIN index) scores every match: 780 ms for a
word in a quarter of two million documents (bench/README.md). This engine keeps
impact-ordered posting lists instead, as web search engines do: one row per term and
document holding the document's BM25 weight for the term, read best first from an index.
A search walks every list of the query in step (Fagin's threshold algorithm), scores each
document it meets whole by looking its other terms up, and stops once the worst of the
best ``limit`` beats what a document not met yet could still score, once the lists that
every match must be in are read to their end, or once it has read WALK_BUDGET postings
(its best then are the best of the documents met: those that weigh most in some list).
A posting carries its document's access key and kind, so the walk passes over what the
searcher may not find within the index; the access keys and the filters are conditions
of the walk, so nothing the searcher may not see is read, counted or suggested. A filter
that leaves few documents (some ids, a community, an author) reads those documents
instead of the lists.

Scores follow tantivy's (title words weigh TITLE_BOOST, a word as typed EXACT_BOOST more
by its own rarity, weighed by BM25 as a term of its own), with two differences that
keep the walk's bounds tight: a word scores as the best of the terms it may be (its
stems, or the words a prefix stands for) rather than their sum, and a term's rarity is
counted over whole documents, not per field.

The count and facets are those of the matches met: exact when the walk read to the end
(``Result.more`` false), else a lower bound ("more than 200 results")."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from .documents import Document
from .engine import (
    EXACT_BOOST,
    FACET_SIZE,
    PREFIX_EXPANSIONS,
    TITLE_BOOST,
    Filters,
    Hit,
    Request,
    Result,
)
from .postgres.models import FEW_KINDS, Posting
from .query import Phrase, Term

K1, B = 1.2, 0.75  # BM25's usual constants, as tantivy and Lucene use them
# COPY's text format: these four characters escaped, nothing else.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
ARRAY_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})  # inside an array's quoted item
BODY_OFFSET = 100_000  # body positions start here: no phrase spans the title and the body
DOC_FIRST = 2_000  # a filter leaving at most this many documents: score them all
# Postings the walk's first round reads, shared by its lists (the page's length at
# least from each: thirty lists of a prefix for five suggestions need not read 64
# each), then doubled at each round.
FIRST_BATCH = 64
# The postings a walk reads before its best found by then are its answer, once it has
# met a first page of matches (else up to four times as many): two common words whose
# documents weigh alike (the worst case of a threshold walk) would have it read a good
# part of both lists, thousands of documents for a page.
WALK_BUDGET = 1_000
READ_PER_RESULT = 40  # and no more than this per result asked (five suggestions: 200)
FIRST_PAGE = 20
TERM_COUNT_CAP = 100  # ``terms`` counts a term's visible documents up to this
BUILD_MEMORY = "512MB"  # for building the walk's indexes after a rebuild
LOCK = 0x5EA7C4  # one writer at a time (pg_advisory_xact_lock), whichever the process
MAX_DOC = 2**63 - 1
EXACT = "="  # before a word as written, in search_pg_term: no term starts so
# A document the searcher may find: one of its keys among theirs (thousands, for an
# employee of a large company), passed as the keys of a JSON object (``_keys``): ``?``
# finds one by halving, and costs the planner nothing, where ``= ANY`` of an array of
# thousands took it 2 ms to weigh each time, and ``keys && array`` compares every pair.
# The keys are sent once per statement, as ``k.keys`` (KEYS in its FROM).
KEYS = "(SELECT %s::jsonb AS keys) k"
VISIBLE = "k.keys ?| d.keys::text[]"
# The same of a posting's document, from the index when the document has one key.
POSTING_VISIBLE = (
    "(k.keys ? p.key OR p.key IS NULL AND EXISTS (SELECT FROM search_pg_doc s"
    " WHERE s.id = p.doc AND k.keys ?| s.keys::text[]))"
)


def _bm25(tf: int, length: int, average: float) -> float:
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average)) if tf else 0.0


# --- The query as the walk sees it --------------------------------------------------------


@dataclass
class _Unit:
    """A word (any of its terms) or a phrase (all of its terms, in line)."""

    terms: list[str]
    exact: str | None = None  # the word as typed: its occurrences weigh EXACT_BOOST more
    phrase: Phrase | None = None
    prefixes: list[str] = field(default_factory=list)  # a word being typed: its forms
    # The terms whose lists are walked: a word's every term; a phrase's rarest, as every
    # document holding the phrase holds it.
    walked: list[str] = field(default_factory=list)


@dataclass
class _List:
    """A term's posting list, walked best first."""

    term: str
    idf: float
    after: tuple[float, int] = (math.inf, MAX_DOC)
    done: bool = False

    @property
    def reach(self) -> float:
        """The most impact a posting not read yet may have."""
        return 0.0 if self.done else self.after[0]

    @property
    def bound(self) -> float:
        return self.idf * self.reach


@dataclass
class _Met:
    ref: str
    kind: str
    community: int | None
    tags: list[str]
    state: str


# A document's weights of the query's terms (and words as typed, after EXACT), and the
# positions of its phrases' terms.
Weights = dict[str, float]
Positions = dict[str, list[int]]


@dataclass
class _Walk:
    groups: list[list[_Unit]]
    excluded: list[_Unit]
    needed: int  # how many groups a match must hold
    idf: dict[str, float]
    top: dict[str, float]
    # What is looked up of a document met: the terms of whole words and the words as
    # typed (after EXACT), one by one; the words that start with a prefix, together.
    read: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    lists: list[_List] = field(default_factory=list)
    met: dict[int, _Met] = field(default_factory=dict)
    scores: dict[int, float] = field(default_factory=dict)  # the matches met

    def exact_idf(self, unit: _Unit) -> float:
        """The rarity of a word as typed (as written in the documents)."""
        return self.idf.get(EXACT + unit.exact, 0.0) if unit.exact else 0.0

    @property
    def phrases(self) -> bool:
        return any(unit.phrase for units in [*self.groups, self.excluded] for unit in units)

    @property
    def phrase_terms(self) -> list[str]:
        units = [unit for units in [*self.groups, self.excluded] for unit in units]
        return sorted({term for unit in units if unit.phrase for term in unit.terms})

    def unit_bound(self, unit: _Unit, walked: dict[str, _List]) -> float:
        """The most a document not met yet may score for this unit: its word as typed
        weighs no more than the term it was written for."""
        if unit.phrase is None:
            lists = [walked[term] for term in unit.terms]
            best = max((item.bound for item in lists), default=0.0)
            reach = max((item.reach for item in lists), default=0.0)
            return best + EXACT_BOOST * self.exact_idf(unit) * reach
        (lead,) = unit.walked
        if walked[lead].done:
            return 0.0
        rest = [t for t in unit.terms if t != lead]
        return walked[lead].bound + sum(self.idf.get(t, 0.0) * self.top.get(t, 0.0) for t in rest)

    def read_through(self) -> bool:
        """Whether every match has been met: more groups were read to their end than a
        match may lack."""
        walked = {item.term: item for item in self.lists}

        def read(unit: _Unit) -> bool:
            return all(walked[term].done for term in unit.walked)

        lacking = sum(all(read(unit) for unit in group) for group in self.groups)
        return lacking > len(self.groups) - self.needed

    def finished(self, limit: int) -> bool:
        """Whether no document left unmet can be among the best ``limit``."""
        if self.read_through():
            return True
        if len(self.scores) < limit:
            return False
        walked = {item.term: item for item in self.lists}
        worst = sorted(self.scores.values(), reverse=True)[limit - 1]
        unmet = sum(self.unit_bound(u, walked) for group in self.groups for u in group)
        return worst >= unmet * (1 - 1e-9)  # the same sum, in another order

    def meet(self, rows: list[tuple[Any, ...]]) -> None:
        """Documents read with their weights (``_met_columns``): keep the matches met for
        the first time, with their scores."""
        for doc, ref, kind, community, tags, state, weights, prefixed, positions in rows:
            if doc in self.met:
                continue
            self.met[doc] = _Met(ref, kind, community, tags, state)
            held = {name: w for name, w in zip(self.read, weights, strict=True) if w is not None}
            score = self.score({**(prefixed or {}), **held}, positions or {})
            if score is not None:
                self.scores[doc] = score

    def score(self, weights: Weights, positions: Positions) -> float | None:
        """A document's score from its weights of the query's terms; None: no match."""
        if any(self._unit(unit, weights, positions) is not None for unit in self.excluded):
            return None
        total, held = 0.0, 0
        for group in self.groups:
            found = [s for unit in group if (s := self._unit(unit, weights, positions)) is not None]
            if found:
                held += 1
                total += sum(found)
        return total if held >= self.needed else None

    def _unit(self, unit: _Unit, weights: Weights, positions: Positions) -> float | None:
        if unit.phrase is not None:
            return self._phrase(unit, weights, positions)
        # A word scores as the best of the terms it may be (its stems, or the words a
        # prefix stands for): the most it may score is then the best of their bounds.
        held = [weights[term] * self.idf.get(term, 0.0) for term in unit.terms if term in weights]
        if not held:
            return None
        exact = weights.get(EXACT + unit.exact, 0.0) if unit.exact else 0.0
        return max(held) + EXACT_BOOST * self.exact_idf(unit) * exact

    def _phrase(self, unit: _Unit, weights: Weights, positions: Positions) -> float | None:
        assert unit.phrase is not None
        if any(term not in positions for term in unit.terms):
            return None
        offsets = unit.phrase.offsets
        starts = {p - offsets[0] for p in positions[unit.terms[0]]}
        for term, offset in zip(unit.terms[1:], offsets[1:], strict=True):
            starts &= {p - offset for p in positions[term]}
        if not starts:
            return None
        return sum(self.idf.get(t, 0.0) * weights[t] for t in set(unit.terms))


# --- The engine -------------------------------------------------------------------------------


class PostgresEngine:
    # --- writing ---------------------------------------------------------------------------

    def write(self, documents: list[Document], removed: list[str]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
            self._drop(cursor, [*removed, *(doc.id for doc in documents)])
            if documents:
                self._add(cursor, documents)

    def clear(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
            cursor.execute(
                "TRUNCATE search_pg_posting, search_pg_doc, search_pg_term, search_pg_stat"
            )

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """The walk's indexes dropped while a rebuild pours documents in, then built at
        once: sorted, they take a fraction of the time and room of indexes grown row by
        row."""
        with connection.schema_editor() as editor:
            for index in Posting._meta.indexes:
                editor.remove_index(Posting, index)
        try:
            yield
        finally:
            with connection.schema_editor() as editor:
                editor.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
                for index in Posting._meta.indexes:
                    editor.add_index(Posting, index)
                # Statistics of the new rows now, not when autovacuum comes: without
                # them the walk's plan reads every posting's row (20 times slower).
                editor.execute("ANALYZE search_pg_posting, search_pg_doc, search_pg_term")

    def _drop(self, cursor: Any, refs: list[str]) -> None:
        cursor.execute(
            "DELETE FROM search_pg_doc WHERE ref = ANY(%s)"
            " RETURNING id, terms, title_words, body_words",
            [refs],
        )
        gone = cursor.fetchall()
        if not gone:
            return
        docs = [doc for doc, terms, _t, _b in gone for _term in terms]
        terms = [term for _doc, terms, _t, _b in gone for term in terms]
        cursor.execute(
            "DELETE FROM search_pg_posting p USING unnest(%s::text[], %s::bigint[]) g(term, doc)"
            " WHERE p.term = g.term AND p.doc = g.doc",
            [terms, docs],
        )
        counts = sorted(Counter(terms).items())  # in one order: writers never deadlock
        cursor.execute(
            "UPDATE search_pg_term t SET documents = t.documents - g.n"
            " FROM unnest(%s::text[], %s::int[]) g(term, n) WHERE t.term = g.term",
            [[t for t, _n in counts], [n for _t, n in counts]],
        )
        cursor.execute(
            "UPDATE search_pg_stat SET documents = documents - %s,"
            " title_words = title_words - %s, body_words = body_words - %s WHERE id = 1",
            [len(gone), sum(row[2] for row in gone), sum(row[3] for row in gone)],
        )

    def _add(self, cursor: Any, documents: list[Document]) -> None:
        cursor.execute(
            "INSERT INTO search_pg_stat (id, documents, title_words, body_words)"
            " VALUES (1, 0, 0, 0) ON CONFLICT (id) DO NOTHING"
        )
        cursor.execute("SELECT documents, title_words, body_words FROM search_pg_stat")
        count, title_words, body_words = cursor.fetchone()
        added_title = sum(len(doc.title.terms) for doc in documents)
        added_body = sum(len(doc.body.terms) for doc in documents)
        # The averages BM25 weighs a document's length against, this batch included.
        title_average = max(1.0, (title_words + added_title) / (count + len(documents)))
        body_average = max(1.0, (body_words + added_body) / (count + len(documents)))
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('search_pg_doc', 'id'))"
            " FROM generate_series(1, %s)",
            [len(documents)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        doc_lines: list[str] = []
        posting_lines: list[str] = []
        terms_added: Counter[str] = Counter()
        tops: dict[str, float] = {}
        for doc_id, doc in zip(ids, documents, strict=True):
            weights, positions = _weights(doc, title_average, body_average)
            key = doc.keys[0] if len(doc.keys) == 1 else None
            # Some 60 postings a document: their lines are made here, _copy_line's checks
            # of each value's type would cost a tenth of a rebuild.
            same = f"\t{doc_id}\t{_copy_field(doc.kind)}\t{_copy_field(key)}\t"
            for term, at in positions.items():
                weight, spots = weights[term], ",".join(map(str, at))
                posting_lines.append(f"{_copy_field(term)}{same}{weight!r}\t{{{spots}}}\n")
                tops[term] = max(tops.get(term, 0.0), weight)
            # The words as written count documents too, for the rarity of the exact word.
            terms_added.update(weights.keys())  # a mapping would add its values
            doc_lines.append(
                _copy_line((
                    doc_id, doc.id, doc.kind, doc.keys, doc.community_id, doc.author_id,
                    doc.created_at, doc.tags, doc.state, doc.has_file, list(weights),
                    list(weights.values()), len(doc.title.terms), len(doc.body.terms),
                ))
            )  # fmt: skip
        with cursor.copy(
            "COPY search_pg_doc (id, ref, kind, keys, community, author, created, tags, state,"
            " has_file, terms, impacts, title_words, body_words) FROM STDIN"
        ) as copy:
            copy.write("".join(doc_lines))
        with cursor.copy(
            "COPY search_pg_posting (term, doc, kind, key, impact, positions) FROM STDIN"
        ) as copy:
            copy.write("".join(posting_lines))
        terms = sorted(terms_added)
        cursor.execute(
            "INSERT INTO search_pg_term (term, documents, top)"
            " SELECT * FROM unnest(%s::text[], %s::int[], %s::float8[])"
            " ON CONFLICT (term) DO UPDATE SET documents = search_pg_term.documents"
            " + excluded.documents, top = greatest(search_pg_term.top, excluded.top)",
            # Array literals: one string each for psycopg to quote, not thousands of values.
            [
                _array(terms),
                _array([terms_added[t] for t in terms]),
                _array([tops.get(t, 0.0) for t in terms]),
            ],
        )
        cursor.execute(
            "UPDATE search_pg_stat SET documents = documents + %s,"
            " title_words = title_words + %s, body_words = body_words + %s WHERE id = 1",
            [len(documents), added_title, added_body],
        )

    # --- reading ---------------------------------------------------------------------------

    def document_frequency(self, term: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT documents FROM search_pg_term WHERE term = %s", [term])
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def terms(
        self, prefix: str, keys: list[str], limit: int, keep: Callable[[str], bool]
    ) -> list[tuple[str, int]]:
        """Counted for the terms ``keep`` accepts alone: each count reads postings (up to
        TERM_COUNT_CAP visible ones)."""
        if not keys:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT term FROM search_pg_term WHERE term LIKE %s AND documents > 0"
                " ORDER BY documents DESC LIMIT %s",
                [_like(prefix), limit],
            )
            kept = [term for (term,) in cursor.fetchall() if keep(term)]
            cursor.execute(
                f"SELECT t.term, c.n FROM {KEYS}, unnest(%s::text[]) t(term)"  # noqa: S608
                " CROSS JOIN LATERAL (SELECT count(*) AS n FROM (SELECT 1"
                f"  FROM search_pg_posting p WHERE p.term = t.term AND {POSTING_VISIBLE}"
                "  LIMIT %s) v) c"
                " WHERE c.n > 0 ORDER BY c.n DESC, t.term",
                [_keys(keys), kept, TERM_COUNT_CAP],
            )
            return [(term, int(n)) for term, n in cursor.fetchall()]

    def _expand(self, cursor: Any, prefix: str) -> list[str]:
        cursor.execute(
            "SELECT term FROM search_pg_term WHERE term LIKE %s AND documents > 0"
            " ORDER BY documents DESC LIMIT %s",
            [_like(prefix), PREFIX_EXPANSIONS],
        )
        return [row[0] for row in cursor.fetchall()]

    def _unit(self, cursor: Any, term: Term) -> _Unit:
        if isinstance(term, Phrase):
            # Each word of the phrase as its first stem: a phrase is typed in one language.
            return _Unit([word.forms[0] for word in term.words], phrase=term)
        if term.prefix:
            found: dict[str, None] = {}
            for form in term.forms:
                found.update(dict.fromkeys(self._expand(cursor, form)))
            return _Unit(list(found)[:PREFIX_EXPANSIONS], prefixes=list(term.forms))
        return _Unit(list(term.forms), exact=term.text)

    def search(self, request: Request) -> Result:
        query = request.query
        if query.empty or not request.keys:
            return Result([], 0)
        with connection.cursor() as cursor:
            groups = [[self._unit(cursor, t) for t in either] for either in query.must]
            excluded = [self._unit(cursor, t) for t in query.must_not]
            every = {t for units in [*groups, excluded] for unit in units for t in unit.terms}
            exact = {EXACT + u.exact for units in groups for u in units if u.exact}
            cursor.execute("SELECT documents FROM search_pg_stat WHERE id = 1")
            row = cursor.fetchone()
            total_documents = int(row[0]) if row else 0
            cursor.execute(
                "SELECT term, documents, top FROM search_pg_term WHERE term = ANY(%s)",
                [sorted(every | exact)],
            )
            idf, top = {}, {}
            for term, documents, highest in cursor.fetchall():
                if documents > 0:
                    idf[term] = math.log(
                        1 + (total_documents - documents + 0.5) / (documents + 0.5)
                    )
                    top[term] = highest
            needed = len(groups) if request.minimum is None else min(request.minimum, len(groups))
            walk = _Walk(groups, excluded, needed, idf, top)
            typed = [unit for units in [*groups, excluded] for unit in units if unit.prefixes]
            walk.prefixes = sorted({form for unit in typed for form in unit.prefixes})
            whole = {
                t for units in [*groups, excluded] for u in units if not u.prefixes for t in u.terms
            }
            walk.read = sorted(whole | exact)
            few = self._few_documents(cursor, walk, request)
            if few is not None:
                walk.meet(few)
                more = False
            else:
                more = self._walk(cursor, walk, request)
        ranked = sorted(walk.scores.items(), key=lambda item: (-item[1], item[0]))
        hits = []
        for doc, score in ranked[: request.limit]:
            kind, pk = walk.met[doc].ref.split(":")
            hits.append(Hit(kind, int(pk), score))
        result = Result(hits, len(ranked), more=more)
        if request.facets and ranked:
            result.facets = _facets([walk.met[doc] for doc, _score in ranked])
        return result

    def _few_documents(
        self, cursor: Any, walk: _Walk, request: Request
    ) -> list[tuple[Any, ...]] | None:
        """The documents left by a narrow filter, when there are few enough to score all."""
        filters = request.filters
        if not (filters.documents or filters.communities or filters.authors):
            return None
        columns, column_params = _met_columns(walk)
        where, params = _conditions(filters)
        if filters.kinds:
            where += " AND d.kind = ANY(%s)"
            params.append(list(filters.kinds))
        # The conditions are _conditions' own text; every value is bound.
        sql = f"SELECT {columns} FROM {KEYS}, search_pg_doc d WHERE {VISIBLE} AND {where} LIMIT %s"  # noqa: S608
        cursor.execute(sql, [*column_params, _keys(request.keys), *params, DOC_FIRST + 1])
        rows = cursor.fetchall()
        return rows if len(rows) <= DOC_FIRST else None

    def _walk(self, cursor: Any, walk: _Walk, request: Request) -> bool:
        """Walk the query's lists best first until the best ``limit`` are known or the
        budget is spent; whether matches may be left unmet (the count is then a lower
        bound)."""
        lists: dict[str, _List] = {}
        for group in walk.groups:
            for unit in group:
                if unit.phrase:  # a term found nowhere is the rarest: its list is read
                    unit.walked = [max(unit.terms, key=lambda t: walk.idf.get(t, math.inf))]
                else:
                    unit.walked = unit.terms
                for term in unit.walked:
                    if term not in lists:  # a term found nowhere: its list is read
                        idf = walk.idf.get(term)
                        lists[term] = _List(term, idf or 0.0, done=idf is None)
        walk.lists = list(lists.values())
        if not walk.lists:  # every word a prefix of none indexed ("own" typed): nothing
            return False
        kinds = request.filters.kinds
        # One kind of the few (communities while typing): their own index, best first.
        kind_condition = ""
        kind_params: list[Any] = []
        if len(kinds) == 1 and kinds[0] in FEW_KINDS:
            kind_condition, kind_params = "AND p.kind = %s", [kinds[0]]
        elif kinds:
            kind_condition, kind_params = "AND p.kind = ANY(%s)", [list(kinds)]
        where, params = _conditions(request.filters)
        batch = max(request.limit, -(-FIRST_BATCH // len(walk.lists)))
        columns, column_params = _met_columns(walk)
        keys, budget = _keys(request.keys), min(WALK_BUDGET, READ_PER_RESULT * request.limit)
        spent = 0
        while not walk.finished(request.limit):
            active = [item for item in walk.lists if not item.done]
            cursor.execute(
                f"SELECT q.i, w.* FROM {KEYS}, unnest("  # noqa: S608  (as in _few_documents)
                "%s::text[], %s::float8[], %s::bigint[], %s::int[])"
                "  AS q(term, impact, doc, i)"
                f" CROSS JOIN LATERAL (SELECT p.impact, {columns}"
                "  FROM search_pg_posting p JOIN search_pg_doc d ON d.id = p.doc"
                f"  WHERE p.term = q.term {kind_condition}"
                f"  AND (p.impact, p.doc) < (q.impact, q.doc) AND {POSTING_VISIBLE}"
                f"  AND {where} ORDER BY p.impact DESC, p.doc DESC LIMIT %s) w",
                [
                    keys,
                    [item.term for item in active],
                    [item.after[0] for item in active],
                    [item.after[1] for item in active],
                    list(range(len(active))),
                    *column_params,
                    *kind_params,
                    *params,
                    batch,
                ],
            )
            rows = cursor.fetchall()
            read: Counter[int] = Counter()
            for i, impact, doc, *_rest in rows:
                read[i] += 1
                active[i].after = min(active[i].after, (impact, doc))
            for i, item in enumerate(active):
                item.done = read[i] < batch
            walk.meet([row[2:] for row in rows])
            spent += len(rows)
            enough = len(walk.scores) >= min(request.limit, FIRST_PAGE)
            if spent >= budget and (enough or spent >= 4 * budget):
                break
            # What is left of the budget (a whole one, past it), shared by the lists left.
            room = budget - spent if spent < budget else budget
            left = sum(not item.done for item in walk.lists)
            batch = min(2 * batch, max(1, room // max(1, left)))
        return not walk.read_through()


def _met_columns(walk: _Walk) -> tuple[str, list[Any]]:
    """What is read of a document met (``d``): its fields, its weights of the query's
    terms and words as typed, and the positions of its phrases' terms (looked up in the
    postings only for a phrase: arrays cost their reading)."""
    # One lookup in the postings' key per term is cheaper than any reading of the row's
    # arrays; a word as written has no postings, its weight is found in the row. The
    # words a prefix stands for (dozens) are one range of the document's postings.
    weights = ", ".join(
        "d.impacts[array_position(d.terms, %s)]"
        if name.startswith(EXACT)
        else "(SELECT o.impact FROM search_pg_posting o WHERE o.term = %s AND o.doc = d.id)"
        for name in walk.read
    )
    params: list[Any] = list(walk.read)
    prefixed = "NULL"
    if walk.prefixes:
        starts = " OR ".join(["o.term LIKE %s"] * len(walk.prefixes))
        prefixed = (
            "(SELECT json_object_agg(o.term, o.impact) FROM search_pg_posting o"  # noqa: S608
            f" WHERE o.doc = d.id AND ({starts}))"
        )
        params += [_like(prefix) for prefix in walk.prefixes]
    positions = "NULL"
    if walk.phrases:
        positions = (
            "(SELECT json_object_agg(o.term, o.positions) FROM search_pg_posting o"
            " WHERE o.term = ANY(%s::text[]) AND o.doc = d.id)"
        )
        params.append(walk.phrase_terms)
    fields = "d.id, d.ref, d.kind, d.community, d.tags, d.state"
    return f"{fields}, ARRAY[{weights}]::float8[], {prefixed}, {positions}", params


def _keys(keys: list[str]) -> str:
    """Access keys as the keys of a JSON object, for ``?`` and ``?|``."""
    return json.dumps(dict.fromkeys(keys, 1))


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(filters: Filters) -> tuple[str, list[Any]]:
    """The WHERE of the documents the filters keep, but for their kinds (``d``:
    search_pg_doc)."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    values: list[Any]
    for column, values in (
        ("d.ref", filters.documents),
        ("d.community", filters.communities),
        ("d.author", filters.authors),
        ("d.state", filters.states),
    ):
        if values:
            where.append(f"{column} = ANY(%s)")
            params.append(list(values))
    if filters.tags:
        where.append("d.tags && %s::varchar[]")
        params.append(list(filters.tags))
    if filters.has_file is not None:
        where.append("d.has_file = %s")
        params.append(filters.has_file)
    if filters.since:
        where.append("d.created >= %s")
        params.append(filters.since)
    if filters.until:
        where.append("d.created <= %s")
        params.append(filters.until)
    return " AND ".join(where), params


def _copy_line(row: tuple[Any, ...]) -> str:
    """A row in COPY's text format, written here: psycopg's row and array adapters took
    half of a rebuild's time."""
    return "\t".join(map(_copy_field, row)) + "\n"


def _array(values: list[Any]) -> str:
    """A PostgreSQL array literal of strings (quoted) or of numbers."""
    if not values:
        return "{}"
    if isinstance(values[0], str):
        return '{"' + '","'.join(v.translate(ARRAY_ESCAPES) for v in values) + '"}'
    return "{" + ",".join(map(repr, values)) + "}"


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)
    if isinstance(value, list):
        return _array(value).translate(COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)  # int, float


def _weights(doc: Document, title_average: float, body_average: float) -> tuple[Weights, Positions]:
    """A document's BM25 weights of its terms and of its words as written (after EXACT),
    title words weighing TITLE_BOOST; and its terms' positions."""
    positions: Positions = {}
    tf: dict[str, list[int]] = {}
    for analysed, offset, slot in ((doc.title, 0, 0), (doc.body, BODY_OFFSET, 1)):
        for (position, term), word in zip(analysed.terms, analysed.exact, strict=True):
            positions.setdefault(term, []).append(offset + position)
            tf.setdefault(term, [0, 0])[slot] += 1
            tf.setdefault(EXACT + word, [0, 0])[slot] += 1
    title_length, body_length = len(doc.title.terms), len(doc.body.terms)
    weights = {
        name: TITLE_BOOST * _bm25(in_title, title_length, title_average)
        + _bm25(in_body, body_length, body_average)
        for name, (in_title, in_body) in tf.items()
    }
    return weights, positions


def _facets(met: list[_Met]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {
        name: Counter() for name in ("kind", "community", "tag", "state")
    }
    for doc in met:
        counts["kind"][doc.kind] += 1
        if doc.community is not None:
            counts["community"][str(doc.community)] += 1
        counts["tag"].update(doc.tags)
        if doc.state:
            counts["state"][doc.state] += 1
    return {name: dict(count.most_common(FACET_SIZE)) for name, count in counts.items()}

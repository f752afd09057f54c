"""The embedded engine: a tantivy index in files under ``SEARCH_INDEX_DIR`` (BM25 with
block-max WAND: a top 10 among two million documents in milliseconds, where SQLite's FTS5
scores every match; bench/engines_embedded.py).

Terms come analysed (``analysis``); the index splits them on spaces and keeps their
positions, a stop word's place held by ``GAP`` so that phrases line up. One writer (the
indexer) per process; searches read the last commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur
from tantivy import Query as TQ

from .analysis import Analysed
from .documents import Document
from .engine import (
    EXACT_BOOST,
    FACET_SIZE,
    PREFIX_EXPANSIONS,
    TITLE_BOOST,
    Filters,
    Hit,
    IndexBusy,
    Request,
    Result,
)
from .query import Phrase, Term, Word

VERSION = 1  # a change of schema or analysis builds a new index beside the old
GAP = "_"
WRITER_HEAP = 64 * 1024 * 1024
FACETS = {"kind": "kind", "community": "community", "tag": "tags", "state": "state"}


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("kind", tokenizer_name="raw", fast=True)
    builder.add_text_field("title", tokenizer_name="whitespace")
    builder.add_text_field("body", tokenizer_name="whitespace")
    builder.add_text_field("exact", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("keys", tokenizer_name="raw")
    builder.add_integer_field("community", indexed=True, fast=True)
    builder.add_integer_field("author", indexed=True, fast=True)
    builder.add_date_field("created", indexed=True, fast=True)
    builder.add_text_field("tags", tokenizer_name="raw", fast=True)
    builder.add_text_field("state", tokenizer_name="raw", fast=True)
    builder.add_boolean_field("has_file", indexed=True, fast=True)
    return builder.build()


def _text(analysed: Analysed) -> str:
    """Terms at their positions, gaps held by GAP."""
    slots = [GAP] * (analysed.terms[-1][0] + 1 if analysed.terms else 0)
    for position, term in analysed.terms:
        slots[position] = term
    return " ".join(slots)


class TantivyEngine:
    def __init__(self, location: str) -> None:
        path = Path(location) / f"v{VERSION}"
        path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self.writing = threading.Lock()
        self._writer: Any = None
        self._last_visible: tuple[tuple[str, ...], TQ] | None = None

    # --- writing ---------------------------------------------------------------------------

    def _document(self, doc: Document) -> tantivy.Document:
        fields: dict[str, Any] = {
            "id": doc.id,
            "kind": doc.kind,
            "title": _text(doc.title),
            "body": _text(doc.body),
            "exact": " ".join(doc.title.exact + doc.body.exact),
            "keys": doc.keys,
            "created": doc.created_at.astimezone(UTC),
            "has_file": doc.has_file,
        }
        if doc.community_id is not None:
            fields["community"] = doc.community_id
        if doc.author_id is not None:
            fields["author"] = doc.author_id
        if doc.tags:
            fields["tags"] = doc.tags
        if doc.state:
            fields["state"] = doc.state
        return tantivy.Document(**fields)

    def _writing(self) -> Any:
        """This process's writer, kept: one process writes the files (tantivy's lock)."""
        if self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as error:
                if "LockBusy" in str(error):
                    raise IndexBusy from error
                raise
        return self._writer

    def write(self, documents: list[Document], removed: list[str]) -> None:
        with self.writing:
            writer = self._writing()
            for doc_id in [*removed, *(d.id for d in documents)]:
                writer.delete_documents_by_term("id", doc_id)
            for doc in documents:
                writer.add_document(self._document(doc))
            writer.commit()
        self.index.reload()

    def clear(self) -> None:
        with self.writing:
            writer = self._writing()
            writer.delete_all_documents()
            writer.commit()
        self.index.reload()

    def bulk(self) -> AbstractContextManager[None]:
        return nullcontext()

    # --- reading ---------------------------------------------------------------------------

    def _term(self, field: str, term: str) -> TQ:
        query = TQ.term_query(self.schema, field, term)
        return TQ.boost_query(query, TITLE_BOOST) if field == "title" else query

    def _word(self, word: Word, searcher: tantivy.Searcher) -> TQ:
        terms = list(word.forms)
        exact = []
        if not word.prefix:
            typed = TQ.term_query(self.schema, "exact", word.text)
            exact.append((Occur.Should, TQ.boost_query(typed, EXACT_BOOST)))
        if word.prefix:
            found: dict[str, int] = {}
            for form in word.forms:
                for field in ("title", "body"):
                    for term, count in searcher.terms_with_prefix(
                        field, form, limit=PREFIX_EXPANSIONS
                    ):
                        found[term] = found.get(term, 0) + count
            terms = sorted(found, key=lambda t: -found[t])[:PREFIX_EXPANSIONS]
        if not terms:
            return TQ.empty_query()
        return TQ.boolean_query(
            [(Occur.Should, self._term(f, t)) for t in terms for f in ("title", "body")] + exact
        )

    def _phrase(self, phrase: Phrase) -> TQ:
        # Each word of the phrase as its first stem: a phrase is typed in one language.
        words: list[str | tuple[int, str]] = [
            (at, word.forms[0]) for at, word in zip(phrase.offsets, phrase.words, strict=True)
        ]
        title = TQ.phrase_query(self.schema, "title", words)
        body = TQ.phrase_query(self.schema, "body", words)
        return TQ.boolean_query(
            [(Occur.Should, TQ.boost_query(title, TITLE_BOOST)), (Occur.Should, body)]
        )

    def _clause(self, term: Term, searcher: tantivy.Searcher) -> TQ:
        return self._phrase(term) if isinstance(term, Phrase) else self._word(term, searcher)

    def _visible(self, keys: list[str]) -> TQ:
        """What the searcher may find. An employee holds thousands of keys, and one search
        (or one round of suggestions) asks for them several times: the last set is kept."""
        wanted, last = tuple(keys), self._last_visible
        if last is not None and last[0] == wanted:
            return last[1]
        query = TQ.term_set_query(self.schema, "keys", keys)
        self._last_visible = (wanted, query)
        return query

    def _filters(self, keys: list[str], filters: Filters) -> list[TQ]:
        found = [self._visible(keys)]
        if filters.documents:
            found.append(TQ.term_set_query(self.schema, "id", filters.documents))
        if filters.kinds:
            found.append(TQ.term_set_query(self.schema, "kind", filters.kinds))
        if filters.communities:
            found.append(TQ.term_set_query(self.schema, "community", filters.communities))
        if filters.authors:
            found.append(TQ.term_set_query(self.schema, "author", filters.authors))
        if filters.tags:
            found.append(TQ.term_set_query(self.schema, "tags", filters.tags))
        if filters.states:
            found.append(TQ.term_set_query(self.schema, "state", filters.states))
        if filters.has_file is not None:
            found.append(TQ.term_query(self.schema, "has_file", filters.has_file))
        if filters.since or filters.until:
            found.append(
                TQ.range_query(
                    self.schema, "created", tantivy.FieldType.Date,
                    filters.since.astimezone(UTC) if filters.since else None,
                    filters.until.astimezone(UTC) if filters.until else None,
                )
            )  # fmt: skip
        return found

    def _query(self, request: Request, searcher: Any) -> TQ:
        query, minimum = request.query, request.minimum
        occur = Occur.Must if minimum is None else Occur.Should
        words = []
        for alternatives in query.must:
            either = [(Occur.Should, self._clause(term, searcher)) for term in alternatives]
            words.append((occur, TQ.boolean_query(either)))
        clauses = [(Occur.Must, TQ.boolean_query(words, minimum))]
        clauses += [(Occur.MustNot, self._clause(term, searcher)) for term in query.must_not]
        for only in self._filters(request.keys, request.filters):
            clauses.append((Occur.Must, TQ.const_score_query(only, 0.0)))
        return TQ.boolean_query(clauses)

    def search(self, request: Request) -> Result:
        if request.query.empty or not request.keys:
            return Result([], 0)
        searcher = self.index.searcher()
        query = self._query(request, searcher)
        found = searcher.search(query, limit=request.limit, count=True)
        hits = []
        for score, address in found.hits:
            kind, pk = searcher.doc(address)["id"][0].split(":")
            hits.append(Hit(kind, int(pk), float(score)))
        result = Result(hits, found.count or 0)  # type: ignore[attr-defined]
        if request.facets and result.total:
            result.facets = self._facets(searcher, query)
        return result

    def _facets(self, searcher: tantivy.Searcher, query: TQ) -> dict[str, dict[str, int]]:
        spec = {name: {"terms": {"field": f, "size": FACET_SIZE}} for name, f in FACETS.items()}
        answer = searcher.aggregate(query, spec)
        return {
            name: {str(b["key"]): int(b["doc_count"]) for b in answer[name]["buckets"]}
            for name in FACETS
        }

    def terms(
        self, prefix: str, keys: list[str], limit: int, keep: Callable[[str], bool]
    ) -> list[tuple[str, int]]:
        if not keys:
            return []
        searcher = self.index.searcher()
        visible = self._visible(keys)
        found: dict[str, int] = {}
        for field in ("title", "body"):
            for term, count in searcher.terms_with_prefix(field, prefix, visible, limit):
                if keep(term):
                    found[term] = max(found.get(term, 0), count)
        return sorted(found.items(), key=lambda item: (-item[1], item[0]))[:limit]

    def document_frequency(self, term: str) -> int:
        searcher = self.index.searcher()
        return max(searcher.doc_freq("title", term), searcher.doc_freq("body", term))

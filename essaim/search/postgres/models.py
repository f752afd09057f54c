"""The tables of the PostgreSQL search engine (``essaim.search.postgres_engine``).

Written and read only by that engine, in SQL; the models give them migrations and let
Django empty them between tests. A document's terms are its postings, one row per term
and document, each with its BM25 weight (``impact``) so that a term's best documents
are read first from an index, as a search engine's impact-ordered posting lists. The
weights of a document's words as written (the exact-word boost) are in its own row."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

# Kinds few enough that a search limited to one of them walks their postings apart.
FEW_KINDS = ("community", "question", "article", "answer")


class Doc(models.Model):
    ref = models.CharField(max_length=40, unique=True)  # "post:12"
    kind = models.CharField(max_length=20)
    keys = ArrayField(models.CharField(max_length=40))  # access.search_keys_of
    community = models.IntegerField(null=True, db_index=True)
    author = models.IntegerField(null=True, db_index=True)
    created = models.DateTimeField()
    tags = ArrayField(models.CharField(max_length=100), default=list)
    state = models.CharField(max_length=20, default="")
    has_file = models.BooleanField(default=False)
    # Its terms, and its words as written after "=": what dropping it takes back from the
    # counts; ``impacts``: their BM25 weights, in the same order (a written word's, for
    # the exact-word boost, is read from here).
    terms = ArrayField(models.TextField())
    impacts = ArrayField(models.FloatField(), default=list)
    title_words = models.IntegerField()
    body_words = models.IntegerField()

    class Meta:
        db_table = "search_pg_doc"
        indexes = [GinIndex(fields=["keys"], name="search_pg_doc_keys")]

    def __str__(self) -> str:
        return self.ref


class Posting(models.Model):
    # A document's postings side by side: the search reads them together.
    pk = models.CompositePrimaryKey("doc", "term")
    term = models.TextField(db_collation="C")
    doc = models.BigIntegerField()  # Doc.id; no foreign key: the engine drops both
    kind = models.CharField(max_length=20)
    # The document's access key when it has only one (nearly every document): the walk
    # tells what the searcher may find from the index alone. None: read the document's.
    key = models.CharField(max_length=40, null=True)  # noqa: DJ001 (None is not "")
    # BM25's term-frequency part, title words weighing TITLE_BOOST; times the term's
    # rarity (idf, read at search time) it is the document's score for the term.
    impact = models.FloatField()
    positions = ArrayField(models.IntegerField())  # body words after BODY_OFFSET

    class Meta:
        db_table = "search_pg_posting"
        indexes = [
            models.Index(
                fields=["term", "impact", "doc"], include=["kind", "key"], name="search_pg_walk"
            ),
            models.Index(
                fields=["term", "kind", "impact", "doc"],
                include=["key"],
                name="search_pg_walk_few",
                condition=models.Q(kind__in=FEW_KINDS),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} in {self.doc}"


class Term(models.Model):
    term = models.TextField(primary_key=True, db_collation="C")
    documents = models.IntegerField()  # how many documents hold it
    top = models.FloatField()  # the highest impact it ever had: a bound for the search

    class Meta:
        db_table = "search_pg_term"

    def __str__(self) -> str:
        return self.term


class Stat(models.Model):
    """One row: how many documents, and their words, for BM25's average lengths."""

    documents = models.BigIntegerField(default=0)
    title_words = models.BigIntegerField(default=0)
    body_words = models.BigIntegerField(default=0)

    class Meta:
        db_table = "search_pg_stat"

    def __str__(self) -> str:
        return f"{self.documents} documents"

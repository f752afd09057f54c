"""Relevance of Essaim's search on judged sets, beside a plain BM25 baseline in the same run.

Known-item queries, judged by the documents' own authors: each query should find one
document, and the figures say how high it ranks — MRR@10 (1/rank, 0 beyond 10) and
nDCG@10 (1/log2(rank + 1)), averaged over the queries.

- ``manpages``: Debian's manual pages (`apt-get install manpages manpages-fr`), written by
  their projects and translators, not by us. A page's one-line description (its NAME
  section) is the query; the page without that line is the document (its name the title).
  French: every French page; English: the same commands' pages and sections 2, 5, 7, 8.
- ``demo``: the demo organisation's questions and articles that its administrator may
  read, searched through the whole search (access, boosts, corrections): two or three
  words of each title, one of them as people mistype it (a plural, a missing accent, two
  letters swapped).

Essaim is the engine with its analysis (stemming, stop words, accents, elisions, exact
words, title weight) and its strategy (all of two words, half of more, else any). The
baseline is BM25 over the same texts, title and body in one field, lower-cased words with
no other analysis, the query's words OR-ed: the textbook bag of words.
"""

from __future__ import annotations

import gzip
import math
import random
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MAN = Path("/usr/share/man")
TOP = 10
QUERIES_MAX = 600

_ESCAPES = re.compile(r"\\f(\[[^]]*\]|\(..|.)|\\\(..|\\\*\(..|\\\*.|\\[&,/|^~:%]|\\[-e]")


@dataclass
class Page:
    name: str
    description: str
    body: str


def _roff_text(source: str) -> Iterator[tuple[str, str]]:
    """(section, line of text) of a roff page, macros and escapes taken out."""
    section = ""
    for raw in source.splitlines():
        if raw.startswith(('.\\"', "'\\\"")):
            continue
        line = raw
        if line.startswith((".", "'")):
            macro, _sep, rest = line[1:].partition(" ")
            if macro in ("SH", "SS"):
                section = rest.strip().strip('"').upper()
                continue
            if macro not in ("B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "SM", "TP", "IP"):
                continue
            line = rest.replace('"', "")
        text = _ESCAPES.sub(lambda m: "-" if m[0] in ("\\-",) else "", line)
        text = text.replace("\\-", "-").replace("\\e", "\\").strip()
        if text:
            yield section, text


def read_page(path: Path) -> Page | None:
    try:
        source = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    except (OSError, EOFError):
        return None
    name_lines, body = [], []
    for section, text in _roff_text(source):
        (name_lines if section in ("NAME", "NOM") else body).append(text)
    named = " ".join(name_lines)
    if " - " not in named:
        return None
    name, description = named.split(" - ", 1)
    if len(description.split()) < 3 or len(body) < 5:
        return None
    return Page(name.split(",")[0].strip(), description.strip(), " ".join(body))


def man_pages(language: str) -> list[Page]:
    if language == "fr":
        paths = sorted((MAN / "fr").glob("man[1-8]/*.gz"))
    else:
        french = {p.name for p in (MAN / "fr").glob("man1/*.gz")}
        paths = sorted(p for p in (MAN / "man1").glob("*.gz") if p.name in french)
        paths += sorted(p for s in "2578" for p in (MAN / f"man{s}").glob("*.gz"))
    pages = [page for path in paths if (page := read_page(path)) is not None]
    return list({page.name: page for page in pages}.values())  # one page per name


# --- scoring ----------------------------------------------------------------------------


@dataclass
class Scores:
    queries: int = 0
    reciprocal: float = 0.0
    gain: float = 0.0

    def add(self, rank: int | None) -> None:
        self.queries += 1
        if rank is not None and rank <= TOP:
            self.reciprocal += 1 / rank
            self.gain += 1 / math.log2(rank + 1)

    @property
    def mrr(self) -> float:
        return self.reciprocal / max(self.queries, 1)

    @property
    def ndcg(self) -> float:
        return self.gain / max(self.queries, 1)


def rank_of(found: list[int], wanted: int) -> int | None:
    return found.index(wanted) + 1 if wanted in found else None


class Baseline:
    """Plain BM25 (tantivy's default tokenizer: lower case, no stemming)."""

    def __init__(self, docs: list[tuple[int, str]]) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", stored=True, indexed=True)
        builder.add_text_field("text", tokenizer_name="default")
        self.schema = builder.build()
        self.folder = tempfile.TemporaryDirectory()
        self.index = tantivy.Index(self.schema, path=self.folder.name)
        writer = self.index.writer(heap_size=128 * 1024 * 1024)
        for pk, text in docs:
            writer.add_document(tantivy.Document(id=pk, text=text))
        writer.commit()
        self.index.reload()

    def search(self, text: str) -> list[int]:
        import tantivy

        words = re.findall(r"\w+", text.lower())
        clauses = [
            (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "text", w)) for w in words
        ]
        if not clauses:
            return []
        searcher = self.index.searcher()
        hits = searcher.search(tantivy.Query.boolean_query(clauses), limit=TOP).hits
        return [searcher.doc(address)["id"][0] for _score, address in hits]


def essaim_engine(pages: list[Page], language: str) -> Callable[[str], list[int]]:
    """Essaim's engine (the configured one, emptied first) and strategy over the pages,
    every page readable (key "all")."""
    from essaim.search import analysis
    from essaim.search.documents import Document
    from essaim.search.engine import Request
    from essaim.search.engine import engine as configured
    from essaim.search.query import parse
    from essaim.search.selectors import minimum_words

    engine = configured()
    engine.clear()
    now = datetime.now(UTC)
    docs = [
        Document(
            kind="article",
            pk=pk,
            title=analysis.analyse(page.name, language),
            body=analysis.analyse(page.body),
            keys=["all"],
            created_at=now,
        )
        for pk, page in enumerate(pages)
    ]
    engine.write(docs, [])

    def search(text: str) -> list[int]:  # as selectors.search: most words, else some
        query = parse(text, language=language)
        for minimum in (minimum_words(query), 1):
            hits = engine.search(Request(query, ["all"], limit=TOP, minimum=minimum)).hits
            if hits:
                break
        return [hit.pk for hit in hits]

    return search


def evaluate_man_pages(language: str, rng: random.Random) -> dict[str, object]:
    pages = man_pages(language)
    if not pages:
        return {"language": language, "pages": 0}
    queries = rng.sample(range(len(pages)), min(QUERIES_MAX, len(pages)))
    ours = essaim_engine(pages, language)
    baseline = Baseline([(pk, f"{page.name} {page.body}") for pk, page in enumerate(pages)])
    essaim_scores, base_scores = Scores(), Scores()
    for pk in queries:
        text = pages[pk].description
        essaim_scores.add(rank_of(ours(text), pk))
        base_scores.add(rank_of(baseline.search(text), pk))
    return {
        "language": language,
        "pages": len(pages),
        "queries": len(queries),
        "essaim": essaim_scores,
        "bm25": base_scores,
    }


# --- the demo organisation ------------------------------------------------------------

_SWAPS = str.maketrans("éèêàùçô", "eeeauco")


def mistyped(word: str, rng: random.Random) -> str:
    """The word as people type it: accents left out, a plural, or two letters swapped."""
    choice = rng.randrange(3)
    if choice == 0 and word != word.translate(_SWAPS):
        return word.translate(_SWAPS)
    if choice == 1 and len(word) > 4:
        return word[:-1] if word.endswith("s") else word + "s"
    if len(word) > 5:
        at = rng.randrange(1, len(word) - 2)
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word


def evaluate_demo(rng: random.Random) -> dict[str, object]:
    """Through the whole search (access, boosts, corrections) as the demo's administrator,
    among the questions and articles they may read (the baseline holds those alone). A
    query is judged found at the first of the things bearing its title (the demo repeats
    some titles)."""
    from essaim import access
    from essaim.accounts.models import User
    from essaim.demo import DEMO_ADMIN_EMAIL
    from essaim.knowledge.models import Article, Question
    from essaim.search import analysis, selectors
    from essaim.search.engine import Filters

    me = User.objects.get(email=DEMO_ADMIN_EMAIL)
    things = [("question", q) for q in access.visible(me, Question.objects.all())]
    things += [("article", a) for a in access.visible(me, Article.objects.all())]
    numbered = {(kind, obj.pk): n for n, (kind, obj) in enumerate(things)}
    titled: dict[str, set[int]] = {}
    for kind, obj in things:
        titled.setdefault(obj.title, set()).add(numbered[(kind, obj.pk)])
    baseline = Baseline([(numbered[(k, o.pk)], f"{o.title} {o.body}") for k, o in things])
    queries = []
    for title, wanted in titled.items():
        language = analysis.language_of(analysis.words(title), default="fr")
        stops = analysis.STOP_WORDS[language]
        content = [
            w for w in re.findall(r"[^\W\d_]+", title) if w.lower() not in stops and len(w) > 2
        ]
        if len(content) >= 2:
            picked = rng.sample(content, min(3, len(content)))
            picked[0] = mistyped(picked[0].lower(), rng)
            queries.append((" ".join(picked), wanted, language))
    rng.shuffle(queries)
    essaim_scores, base_scores = Scores(), Scores()
    both = Filters(kinds=["question", "article"])

    def first(found: list[int], wanted: set[int]) -> int | None:
        return next((n for n, pk in enumerate(found, start=1) if pk in wanted), None)

    for text, wanted, language in queries[:QUERIES_MAX]:
        page = selectors.search(me, text, filters=both, language=language, limit=TOP)
        essaim_scores.add(first([numbered[(f.kind, f.obj.pk)] for f in page.results], wanted))
        base_scores.add(first(baseline.search(text), wanted))
    return {"queries": essaim_scores.queries, "essaim": essaim_scores, "bm25": base_scores}

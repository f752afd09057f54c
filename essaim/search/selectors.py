"""Reads of search: one search over everything a person may see, ranked, explained,
highlighted and corrected; suggestions while typing.

The engine returns the best ``CANDIDATES`` by text relevance among what the searcher's
keys open (``access.search_keys``), with the count and facets of every match. Each
candidate is read again through ``access.visible`` (a thing deleted a moment ago, before
the indexer caught up, is not shown), then ranked by its relevance times explainable
boosts: freshness, engagement (votes, accepted answers, reactions, comments) and
closeness (my communities, my unit, people I follow)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from essaim import access
from essaim.accounts.models import User
from essaim.chat.models import Message
from essaim.communities.models import RUNNERS, Community, Membership
from essaim.content.models import Attachment, Comment, Post
from essaim.directory.models import Follow
from essaim.directory.selectors import PeopleQuery, people_search
from essaim.directory.text import edit_distance, typos_allowed
from essaim.knowledge.models import Answer, Article, Question
from essaim.web.jinja import url_for

from .analysis import LANGUAGES, fold, stem, words
from .documents import community_of
from .engine import Filters, Request, engine
from .models import Pending, SearchLog, Watch, WatchComment, WatchSubscription
from .query import Query, Word, parse

CANDIDATES = 200  # ranked again here; a result page reaches this deep, like a web engine
PAGE_SIZE = 20
SNIPPET_WORDS = 30
SPELLING_CANDIDATES = 500  # the most frequent words sharing a misspelt word's first letters
FRESH_DAYS = 90  # a document this old keeps half its freshness boost

# Boosts, each a share added to the text relevance (score * (1 + sum of boosts)).
BOOST_FRESH = 0.3
BOOST_ENGAGEMENT = 0.15  # per doubling of reactions, comments, answers, votes…
BOOST_ACCEPTED = 0.3
BOOST_MY_COMMUNITY = 0.25
BOOST_FOLLOWED = 0.2
BOOST_MINE = 0.1

REASONS = {
    "recent": _("Recent"),
    "popular": _("Popular"),
    "accepted": _("Accepted answer"),
    "community": _("In your communities"),
    "followed": _("By someone you follow"),
    "mine": _("Yours"),
}


@dataclass
class Found:
    kind: str
    obj: Any
    score: float
    reasons: list[str] = field(default_factory=list)
    # What a result shows, made for the page's results alone (``_shown``).
    title: str = ""
    snippet: str = ""  # HTML: escaped text with <mark> around what matched
    url: str = ""


def _shown(results: list[Found], query: Query) -> list[Found]:
    for found in results:
        found.title = _title(found.obj)
        found.snippet = snippet(_text(found.obj), query)
        found.url = _url(found.obj)
    return results


@dataclass
class SearchPage:
    text: str
    query: Query
    results: list[Found]
    total: int  # every match the searcher may see
    facets: dict[str, dict[str, int]]
    more: bool = False  # more matches than counted (the engine stopped once it knew the best)
    suggestion: str = ""  # "did you mean"
    corrected: bool = False  # nothing matched the text: these are the suggestion's results
    some_words: bool = False  # nothing held every word: these hold some of them
    offset: int = 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.results) < min(self.total, CANDIDATES)


# How each kind is read for a result (joins its title, link and boosts need).
LOADERS: dict[str, Callable[[], QuerySet[Any]]] = {
    "post": lambda: Post.objects.select_related("author", "community"),
    "comment": lambda: Comment.objects.select_related("author", "post__community"),
    "question": lambda: Question.objects.select_related("author", "community"),
    "answer": lambda: Answer.objects.select_related("author", "question__community"),
    "article": lambda: Article.objects.select_related("created_by", "community"),
    "message": lambda: Message.objects.select_related("author", "conversation__community"),
    "community": lambda: Community.objects.all(),
    "file": lambda: Attachment.objects.select_related(
        "text", "post__community", "comment__post", "question", "answer__question", "message"
    ),
}


def _title(obj: Model) -> str:
    if isinstance(obj, Attachment):
        return obj.name
    if isinstance(obj, Question | Article):
        return obj.title
    if isinstance(obj, Community):
        return obj.name
    if isinstance(obj, Answer):
        return str(_("Answer to: %(title)s") % {"title": obj.question.title})
    if isinstance(obj, Comment):
        return str(_("Comment by %(name)s") % {"name": obj.author.display_name})
    if isinstance(obj, Message):
        return str(_("Message from %(name)s") % {"name": obj.author.display_name})
    assert isinstance(obj, Post)
    return str(_("Post by %(name)s") % {"name": obj.author.display_name})


def _text(obj: Model) -> str:
    if isinstance(obj, Attachment):
        found = getattr(obj, "text", None)
        return found.text if found is not None else ""
    if isinstance(obj, Community):
        return obj.description
    return str(getattr(obj, "body", ""))


def _url(obj: Model) -> str:
    if isinstance(obj, Attachment):  # where it was shared, the file among the rest
        holder = access.attachment_holder(obj)
        return _url(holder) if holder is not None else ""
    if isinstance(obj, Post):
        return url_for("post", obj.pk)
    if isinstance(obj, Comment):
        return f"{url_for('post', obj.post_id)}#comment-{obj.pk}"
    if isinstance(obj, Question):
        return url_for("question", obj.pk)
    if isinstance(obj, Answer):
        return f"{url_for('question', obj.question_id)}#answer-{obj.pk}"
    if isinstance(obj, Article):
        return url_for("article", obj.pk)
    if isinstance(obj, Message):
        return f"{url_for('conversation', obj.conversation_id)}?message={obj.pk}"
    assert isinstance(obj, Community)
    return url_for("community", obj.slug)


def _engagement(obj: Model) -> int:
    if isinstance(obj, Post):
        return obj.reaction_count + obj.comment_count
    if isinstance(obj, Comment):
        return obj.reaction_count
    if isinstance(obj, Question):
        return obj.answer_count
    if isinstance(obj, Answer):
        return max(obj.score, 0)
    if isinstance(obj, Article):
        return obj.useful_count
    return 0


@dataclass
class _Closeness:
    me: int
    communities: set[int]
    followed: set[int]


def _closeness(user: User) -> _Closeness:
    communities = Membership.objects.filter(user=user).values_list("community", flat=True)
    followed = Follow.objects.filter(follower=user).values_list("followed", flat=True)
    return _Closeness(user.pk, set(communities), set(followed))


def _boosts(obj: Model, close: _Closeness, now: datetime) -> tuple[float, list[str]]:
    reasons: list[str] = []
    boost = 0.0
    created = getattr(obj, "created_at", None)
    if created is not None:
        fresh = 1 / (1 + max((now - created).days, 0) / FRESH_DAYS)
        boost += BOOST_FRESH * fresh
        if fresh > 0.8:
            reasons.append("recent")
    engaged = _engagement(obj)
    if engaged:
        boost += BOOST_ENGAGEMENT * math.log2(1 + engaged)
        if engaged >= 5:
            reasons.append("popular")
    if getattr(obj, "accepted", False) or getattr(obj, "accepted_answer_id", None):
        boost += BOOST_ACCEPTED
        reasons.append("accepted")
    author = getattr(obj, "author_id", None) or getattr(obj, "created_by_id", None)
    if community_of(obj) in close.communities:
        boost += BOOST_MY_COMMUNITY
        reasons.append("community")
    if author in close.followed:
        boost += BOOST_FOLLOWED
        reasons.append("followed")
    elif author == close.me:
        boost += BOOST_MINE
        reasons.append("mine")
    return boost, reasons


# --- Highlighting -----------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def _matcher(query: Query) -> Callable[[str], bool]:
    """Whether a folded word of a text is one the query looks for."""
    exact = {form for word in query.words() if not word.prefix for form in word.forms}
    prefixes = [form for word in query.words() if word.prefix for form in word.forms]

    def matches(folded: str) -> bool:
        if any(folded.startswith(p) for p in prefixes):
            return True
        return any(stem(folded, lang) in exact for lang in LANGUAGES)

    return matches


def snippet(text: str, query: Query, size: int = SNIPPET_WORDS) -> str:
    """The stretch of ``text`` with the most matched words, escaped, matches marked."""
    text = " ".join(text.split())
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not spans:
        return ""
    matches = _matcher(query)
    hit = [matches(fold(text[a:b])) for a, b in spans]
    best, best_count = 0, -1
    for start in range(0, max(len(spans) - size, 0) + 1):
        count = sum(hit[start : start + size])
        if count > best_count:
            best, best_count = start, count
    window = range(best, min(best + size, len(spans)))
    cut_from, cut_to = spans[window.start][0], spans[window.stop - 1][1]
    out, at = [], cut_from
    for index in window:
        a, b = spans[index]
        if hit[index]:
            out += [html.escape(text[at:a]), "<mark>", html.escape(text[a:b]), "</mark>"]
            at = b
    out.append(html.escape(text[at:cut_to]))
    lead = "… " if cut_from > 0 else ""
    tail = " …" if cut_to < len(text) else ""
    return lead + "".join(out) + tail


# --- Spelling ---------------------------------------------------------------------------


def _correction(word: Word, keys: list[str]) -> str | None:
    """The indexed term most likely meant by a word found nowhere: the most frequent one
    within its typo allowance (1, 2 from eight letters) among those sharing its first
    two letters, in what the searcher may find."""
    if word.prefix or typos_allowed(word.text) == 0:
        return None
    search = engine()
    if any(search.document_frequency(form) for form in word.forms):
        return None
    allowed = typos_allowed(word.text)
    best: tuple[int, int, str] | None = None
    for form in word.forms:

        def near(term: str, form: str = form) -> bool:
            return edit_distance(form, term) <= allowed

        for term, count in search.terms(form[:2], keys, SPELLING_CANDIDATES, near):
            distance = edit_distance(form, term)
            if best is None or (distance, -count) < best[:2]:
                best = (distance, -count, term)
    return best[2] if best else None


def _surface(term: str, results: list[Found], fallback: str) -> str:
    """A word as people write it for an indexed term: the first in the results' text
    that stems to it."""
    for found in results:
        for token in _TOKEN.findall(f"{found.title} {_text(found.obj)}"):
            folded = words(token)
            if folded and any(stem(folded[0], lang) == term for lang in LANGUAGES):
                return token.lower()
    return fallback


# --- Search -----------------------------------------------------------------------------


def _run(
    user: User,
    query: Query,
    keys: list[str],
    filters: Filters,
    limit: int = CANDIDATES,
    *,
    minimum: int | None = None,
    close: _Closeness | None = None,
) -> tuple[list[Found], int, dict[str, dict[str, int]], bool]:
    facets = limit == CANDIDATES  # a full search, not suggestions
    keys = access.search_keys_for(keys, filters.kinds)
    request = Request(query, keys, filters, limit=limit, facets=facets, minimum=minimum)
    result = engine().search(request)
    wanted: dict[str, list[int]] = {}
    for hit in result.hits:
        wanted.setdefault(hit.kind, []).append(hit.pk)
    objects: dict[tuple[str, int], Model] = {}
    for kind, ids in wanted.items():
        for obj in access.visible(user, LOADERS[kind]().filter(pk__in=ids)):
            objects[(kind, obj.pk)] = obj
    close, now = close or _closeness(user), timezone.now()
    found = []
    for hit in result.hits:
        obj = objects.get((hit.kind, hit.pk))
        if obj is None:
            continue
        boost, reasons = _boosts(obj, close, now)
        found.append(Found(hit.kind, obj, hit.score * (1 + boost), reasons))
    found.sort(key=lambda f: -f.score)
    return found, result.total, result.facets, result.more


def minimum_words(query: Query) -> int | None:
    """How many of a query's words a result must hold: all of two, half of more (a
    question typed as a sentence matches what holds most of it), rounded up."""
    count = len(query.must)
    return None if count <= 2 else max(2, math.ceil(count / 2))


def search(
    user: access.Viewer,
    text: str,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    language: str = "en",
) -> SearchPage:
    """A page of what ``user`` may find for ``text``. When nothing holds every word: the
    results of the text with its unknown words corrected, and failing that those holding
    some of the words, the most relevant first (as a web search engine does)."""
    filters = filters or Filters()
    query = parse(text, language=language)
    if not access.is_active(user) or query.empty:
        return SearchPage(text, query, [], 0, {}, offset=offset)
    keys = access.search_keys(user)
    minimum = minimum_words(query)
    page = SearchPage(text, query, *_run(user, query, keys, filters, minimum=minimum))
    page.offset = offset
    corrections = {w.text: c for w in query.words() if (c := _correction(w, keys))}
    fixed = query.corrected(corrections) if corrections else query
    if corrections and not page.results:
        page.results, page.total, page.facets, page.more = _run(
            user, fixed, keys, filters, minimum=minimum
        )
        page.corrected = True
    if not page.results and len(query.must) > 1:
        page.results, page.total, page.facets, page.more = _run(
            user, fixed, keys, filters, minimum=1
        )
        page.some_words = True
    if corrections:

        def fix(match: re.Match[str]) -> str:
            folded = words(match[0])
            term = corrections.get(folded[0]) if folded else None
            return _surface(term, page.results, term) if term else match[0]

        page.suggestion = _TOKEN.sub(fix, text)
    page.results = _shown(page.results[offset : offset + limit], fixed)
    return page


SUGGESTIONS = 5


@dataclass
class Suggestions:
    people: list[User]
    communities: list[Found]
    questions: list[Found]


def people_for(user: access.Viewer, text: str, limit: int = SUGGESTIONS) -> list[User]:
    """The people a search's text names best (the directory's search)."""
    return people_search(user, PeopleQuery(text=text), limit=limit, facets=False).results


def suggest(user: access.Viewer, text: str, *, language: str = "en") -> Suggestions:
    """While typing: people, communities and questions that start so, the last word
    being a prefix."""
    query = parse(text, language=language, as_you_type=True)
    if not access.is_active(user) or query.empty:
        return Suggestions([], [], [])
    # The people (the directory's own search) meanwhile, on a connection of their own
    # while typing is the pace: a quarter of a suggestion's time. Inside a transaction
    # (tests), here: another connection would not see its rows.
    with ThreadPoolExecutor(max_workers=1) as aside:
        people = (
            aside.submit(_on_own_connection, people_for, user, text)
            if not connection.in_atomic_block
            else None
        )
        keys = access.search_keys(user, kinds=["community", "question"])
        close = _closeness(user)
        kinds = {
            kind: _shown(
                _run(user, query, keys, Filters(kinds=[kind]), SUGGESTIONS, close=close)[0], query
            )
            for kind in ("community", "question")
        }
        found = people.result() if people is not None else people_for(user, text)
    return Suggestions(found, kinds["community"], kinds["question"])


def _on_own_connection(call: Callable[..., Any], *args: Any) -> Any:
    try:
        return call(*args)
    finally:
        connection.close()  # back to the pool


def result_url(user: access.Viewer, kind: str, pk: int) -> str | None:
    """Where a result leads, if ``user`` may see it."""
    if kind not in LOADERS:
        return None
    obj = access.visible(user, LOADERS[kind]().filter(pk=pk)).first()
    return _url(obj) if obj is not None else None


@dataclass
class SearchAnalytics:
    searches: int
    missed: list[tuple[str, int]]  # searches that found nothing, most frequent first
    unopened: list[tuple[str, int]]  # searches that found things nobody opened


def search_analytics(since: datetime, limit: int = 50) -> SearchAnalytics:
    logs = SearchLog.objects.filter(created_at__gte=since)

    def top(qs: QuerySet[SearchLog]) -> list[tuple[str, int]]:
        rows = qs.values("text").annotate(n=Count("pk")).order_by("-n", "text")[:limit]
        return [(row["text"], row["n"]) for row in rows]

    return SearchAnalytics(
        searches=logs.count(),
        missed=top(logs.filter(results=0)),
        unopened=top(logs.filter(results__gt=0, clicked_at__isnull=True)),
    )


def index_backlog() -> int:
    """Changes committed and not yet in the index."""
    return Pending.objects.count()


# --- Keyword watches --------------------------------------------------------------------

FEED_SIZE = 30


@dataclass
class WatchList:
    subscribed: list[tuple[Watch, str]]  # (watch, frequency)
    others: list[Watch]  # shared watches one may join


def watches_for(user: access.Viewer) -> WatchList:
    if not access.is_active(user):
        return WatchList([], [])
    mine = dict(WatchSubscription.objects.filter(user=user).values_list("watch_id", "frequency"))
    seen = access.visible(user, Watch.objects.select_related("community")).order_by("title")
    return WatchList(
        subscribed=[(w, mine[w.pk]) for w in seen if w.pk in mine],
        others=[w for w in seen if w.pk not in mine],
    )


@dataclass
class WatchView:
    watch: Watch
    matches: list[Found]
    comments: list[WatchComment]
    subscribers: int
    frequency: str | None  # the viewer's subscription
    can_manage: bool


def watch_view(user: access.Viewer, watch_id: object) -> WatchView:
    """A watch's page: its latest matches the viewer may see (each thing's own rule),
    its discussion and subscribers."""
    watch = access.access_watch(user, watch_id)
    assert isinstance(user, User)
    query = parse(watch.text, language=watch.language)
    rows = list(watch.matches.order_by("-id")[: FEED_SIZE * 2])
    wanted: dict[str, list[int]] = {}
    for row in rows:
        wanted.setdefault(row.kind, []).append(row.object_id)
    objects = {
        (kind, obj.pk): obj
        for kind, ids in wanted.items()
        for obj in access.visible(user, LOADERS[kind]().filter(pk__in=ids))
    }
    matches = [
        Found(row.kind, obj, 0.0)
        for row in rows
        if (obj := objects.get((row.kind, row.object_id))) is not None
    ]
    matches = _shown(matches[:FEED_SIZE], query)
    comments = list(
        watch.comments.filter(deleted_at__isnull=True).select_related("author").order_by("id")
    )
    mine = watch.subscriptions.filter(user=user)
    return WatchView(
        watch=watch,
        matches=matches,
        comments=comments,
        subscribers=watch.subscriptions.count(),
        frequency=mine.values_list("frequency", flat=True).first(),
        can_manage=access.can(user, "manage", watch),
    )


def watch_hosts(user: access.Viewer) -> list[Community]:
    """The communities whose watches ``user`` may make (owners and animators)."""
    if not access.is_active(user):
        return []
    runs = Membership.objects.filter(user=user, role__in=RUNNERS).values("community")
    return list(Community.objects.filter(pk__in=runs, archived_at__isnull=True).order_by("name"))

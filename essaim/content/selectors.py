"""Every read of posts: from access.visible, so a feed, a count, a file list or a hashtag
page never holds a post the viewer may not read. A page of posts is read with its
authors, counts, files, polls and the viewer's own reactions and states in a fixed
number of queries, whatever its length (``decorate``)."""

from __future__ import annotations

import base64
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import strip_tags

from essaim import access
from essaim.accounts.models import User
from essaim.communities.models import Community, Membership
from essaim.directory.models import Follow

from .models import (
    Attachment,
    Comment,
    Hashtag,
    Poll,
    PollVote,
    Post,
    PostKind,
    PostState,
    Reaction,
    Revision,
)

PAGE_SIZE = 20
SCOPES = ("home", "community", "profile", "saved", "hashtag")
ORDERS = ("latest", "relevant")
RELEVANT_WINDOW = timedelta(days=14)  # how far back "relevant" looks
RELEVANT_CANDIDATES = 300  # the newest posts of the window it ranks
INTERACTIONS_WINDOW = timedelta(days=60)
# How long the feed keeps its slow-moving inputs: a viewer's interactions and trending
# hashtags, a community's week of posts.
SIGNALS_CACHE_SECONDS = 300
SIGNAL_FIELDS = (
    *("pk", "author_id", "community_id", "created_at"),
    *("comment_count", "reaction_count", "must_read"),
)


class BadCursor(ValueError):
    """A cursor that this feed did not give."""


@dataclass(frozen=True)
class Feed:
    """Which posts: ``scope`` and what it needs (a community, a person, a hashtag), and
    the filters (a community within the home feed, a kind, unread only)."""

    scope: str = "home"
    community: Community | None = None
    person: User | None = None
    hashtag: str = ""
    kind: str = ""
    unread: bool = False


def posts(viewer: access.Viewer) -> QuerySet[Post]:
    return access.visible(viewer, Post.objects.all())


def post_queryset(viewer: access.Viewer, feed: Feed) -> QuerySet[Post]:
    """The posts of ``feed`` the viewer reads, in no particular order."""
    if feed.scope == "community":
        assert feed.community is not None
        found = access.community_posts(viewer, feed.community)  # visible(), shorter
    else:
        found = posts(viewer)
    if feed.scope == "home":
        mine = list(
            Membership.objects.filter(user_id=viewer.pk or 0).values_list("community", flat=True)
        )
        followed = list(
            Follow.objects.filter(follower_id=viewer.pk or 0).values_list("followed", flat=True)
        )
        found = found.filter(
            Q(community_id__in=mine)
            | Q(author_id__in=[*followed, viewer.pk or 0])
            | Q(community__isnull=True, kind=PostKind.ANNOUNCEMENT)
        )
        if feed.community is not None:
            found = found.filter(community=feed.community)
    elif feed.scope == "profile":
        found = found.filter(author=feed.person)
    elif feed.scope == "saved":
        saved = PostState.objects.filter(user_id=viewer.pk or 0, saved_at__isnull=False)
        found = found.filter(pk__in=saved.values("post"))
    elif feed.scope == "hashtag":
        found = found.filter(pk__in=Hashtag.objects.filter(name=feed.hashtag).values("post"))
    elif feed.scope != "community":
        raise ValueError(f"unknown feed {feed.scope!r}")
    if feed.kind:
        found = found.filter(kind=feed.kind)
    if feed.unread:
        read = PostState.objects.filter(user_id=viewer.pk or 0, read_at__isnull=False)
        found = found.exclude(pk__in=read.values("post"))
    return found


@dataclass
class FeedPage:
    posts: list[Post]
    next_cursor: str | None
    pinned: list[Post] = field(default_factory=list)


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: str) -> tuple[str, str]:
    try:
        key, _sep, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition("=")
    except (ValueError, UnicodeError) as exc:
        raise BadCursor(cursor) from exc
    return key, value


def feed_page(
    viewer: access.Viewer,
    feed: Feed,
    *,
    order: str = "latest",
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> FeedPage:
    """One page of a feed, newest first ("latest": a cursor on the date, so a page
    never repeats or skips a post whatever arrives meanwhile) or by relevance."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    found = post_queryset(viewer, feed)
    if order == "relevant":
        return _relevant_page(viewer, found, cursor, size)
    if cursor:
        key, value = _decode(cursor)
        when, _sep, pk = value.rpartition("|")
        try:
            at = parse_datetime(when) if key == "t" else None
        except ValueError:  # well formed, but no such date
            at = None
        if at is None or timezone.is_naive(at) or not pk.isdigit():
            raise BadCursor(cursor)
        found = found.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=int(pk)))
    page = list(_with_relations(found).order_by("-created_at", "-pk")[: size + 1])
    more = len(page) > size
    page = page[:size]
    last = page[-1] if page else None
    next_cursor = _encode(f"t={last.created_at.isoformat()}|{last.pk}") if more and last else None
    pinned: list[Post] = []
    if feed.scope == "community" and not cursor:
        pinned = list(_with_relations(found.filter(pinned_at__isnull=False)).order_by("-pinned_at"))
    decorate(viewer, [*pinned, *page])
    return FeedPage(page, next_cursor, pinned)


def _with_relations(found: QuerySet[Post]) -> QuerySet[Post]:
    return found.select_related("author__profile", "community", "link", "org_unit", "site")


def _relevant_page(
    viewer: access.Viewer, found: QuerySet[Post], cursor: str | None, size: int
) -> FeedPage:
    """The newest RELEVANT_CANDIDATES posts of the last RELEVANT_WINDOW, ranked by
    ``relevance``; a cursor is a position in that ranking."""
    offset = 0
    if cursor:
        key, value = _decode(cursor)
        if key != "o" or not value.isdigit() or int(value) >= RELEVANT_CANDIDATES:
            raise BadCursor(cursor)
        offset = int(value)
    now = timezone.now()
    candidates: list[dict[str, Any]] = [
        dict(row)
        for row in found.filter(created_at__gte=now - RELEVANT_WINDOW)
        .order_by("-created_at")
        .values(*SIGNAL_FIELDS)[:RELEVANT_CANDIDATES]
    ]
    signals = _signals(viewer, candidates, now)
    ranked = sorted(candidates, key=lambda c: relevance(c, signals, now), reverse=True)
    chosen = [c["pk"] for c in ranked[offset : offset + size]]
    by_pk = _with_relations(Post.objects.filter(pk__in=chosen)).in_bulk()
    page = [by_pk[pk] for pk in chosen if pk in by_pk]
    decorate(viewer, page)
    more = offset + size < len(ranked)
    return FeedPage(page, _encode(f"o={offset + size}") if more else None)


@dataclass
class Signals:
    """What "relevant" knows of the viewer: how often they reacted to or commented on
    each author and in each community lately, whom they follow, how lively each
    community is, and which must-read posts they acknowledged."""

    by_author: dict[int, int]
    by_community: dict[int, int]
    followed: set[int]
    community_posts: dict[int, int]
    acknowledged: set[int]


def _interactions(me: int, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
    """How often ``me`` reacted or commented lately, by author and by community. Kept a
    few minutes in the cache: two months of habits do not change between two pages."""
    key = f"feed-interactions:{me}"
    found = cache.get(key)
    if found is not None:
        return found
    since = now - INTERACTIONS_WINDOW
    by_author: dict[int, int] = defaultdict(int)
    by_community: dict[int, int] = defaultdict(int)
    reactions = Reaction.objects.filter(user_id=me, created_at__gte=since, post__isnull=False)
    comments = Comment.objects.filter(author_id=me, created_at__gte=since)
    for rows in (
        reactions.values("post__author_id", "post__community_id").annotate(n=Count("pk")),
        comments.values("post__author_id", "post__community_id").annotate(n=Count("pk")),
    ):
        for row in rows:
            by_author[row["post__author_id"]] += row["n"]
            if row["post__community_id"]:
                by_community[row["post__community_id"]] += row["n"]
    found = (dict(by_author), dict(by_community))
    cache.set(key, found, SIGNALS_CACHE_SECONDS)
    return found


def _week_posts(communities: set[int], now: datetime) -> dict[int, int]:
    """How many posts each community had in the last seven days. Kept a few minutes in the
    cache, by community: the count was half of a "relevant" page's SQL (16 ms for the 50
    communities of a feed), and it only weighs a ranking, never shown."""
    keys = {pk: f"community-week-posts:{pk}" for pk in communities}
    cached = cache.get_many(keys.values())
    found = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = communities - found.keys()
    if missing:
        rows = (
            Post.objects.filter(
                community_id__in=missing,
                created_at__gte=now - timedelta(days=7),
                deleted_at__isnull=True,
            )
            .values("community_id")
            .annotate(n=Count("pk"))
        )
        fresh = dict.fromkeys(missing, 0) | {row["community_id"]: row["n"] for row in rows}
        cache.set_many({keys[pk]: n for pk, n in fresh.items()}, SIGNALS_CACHE_SECONDS)
        found |= fresh
    return found


def _signals(viewer: access.Viewer, candidates: list[dict[str, Any]], now: datetime) -> Signals:
    me = viewer.pk or 0
    by_author, by_community = _interactions(me, now)
    communities = {c["community_id"] for c in candidates if c["community_id"]}
    return Signals(
        by_author=by_author,
        by_community=by_community,
        followed=set(Follow.objects.filter(follower_id=me).values_list("followed_id", flat=True)),
        community_posts=_week_posts(communities, now),
        acknowledged=set(
            PostState.objects.filter(
                user_id=me,
                post_id__in=[c["pk"] for c in candidates if c["must_read"]],
                acknowledged_at__isnull=False,
            ).values_list("post_id", flat=True)
        ),
    )


def relevance(post: dict[str, Any], signals: Signals, now: datetime) -> float:
    """How high a post ranks in the "relevant" feed:

        freshness * closeness * engagement * liveliness, * 10 for a must-read not yet
        acknowledged

    - freshness = 1 / (1 + age in hours / 12) ** 1.5: a post loses half its weight in
      about seven hours and keeps falling, so that nothing stays on top for days;
    - closeness = 1 + ln(1 + my reactions and comments to its author lately) + 0.5 *
      ln(1 + mine in its community) + 1 when I follow its author: people and places I
      engage with come first;
    - engagement = 1 + 0.5 * ln(1 + reactions + 2 * comments): a discussed post rises,
      but a hundred reactions weigh barely three times one;
    - liveliness = 1 + 0.1 * ln(1 + the community's posts this week): a small lift for
      lively communities, small enough that a quiet one's news still shows.
    Logarithms keep any one signal from drowning the others."""
    age_hours = max(0.0, (now - post["created_at"]).total_seconds() / 3600)
    freshness = 1 / (1 + age_hours / 12) ** 1.5
    community = post["community_id"]
    closeness = (
        1
        + math.log1p(signals.by_author.get(post["author_id"], 0))
        + 0.5 * math.log1p(signals.by_community.get(community, 0) if community else 0)
        + (1 if post["author_id"] in signals.followed else 0)
    )
    engagement = 1 + 0.5 * math.log1p(post["reaction_count"] + 2 * post["comment_count"])
    liveliness = 1 + 0.1 * math.log1p(signals.community_posts.get(community, 0))
    pending = post["must_read"] and post["pk"] not in signals.acknowledged
    return freshness * closeness * engagement * liveliness * (10 if pending else 1)


# --- A page of posts, decorated ---------------------------------------------------------


def decorate(viewer: access.Viewer, page: list[Post]) -> None:
    """Gives each post of ``page`` (read through ``visible``) what a feed shows, in a
    fixed number of queries: ``files``, ``reaction_counts``, ``my_reaction``, ``poll``
    (with ``options`` and ``my_votes``), ``state`` (the viewer's) and ``allowed`` (the
    actions the viewer may take)."""
    if not page:
        return
    ids = [p.pk for p in page]
    me = viewer.pk or 0
    files: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in Attachment.objects.filter(post_id__in=ids, comment__isnull=True).order_by(
        "pk"
    ):
        files[attachment.post_id or 0].append(attachment)
    # Only posts that have reactions or a poll are asked about them (none, for a new one).
    reacted = [p.pk for p in page if p.reaction_count]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    mine: dict[int, str] = {}
    if reacted:
        rows = Reaction.objects.filter(post_id__in=reacted).values("post_id", "kind")
        for row in rows.annotate(n=Count("pk")):
            counts[row["post_id"]][row["kind"]] = row["n"]
        mine = dict(
            Reaction.objects.filter(post_id__in=reacted, user_id=me).values_list("post_id", "kind")
        )
    polled = [p.pk for p in page if p.kind in (PostKind.POLL, PostKind.ANNOUNCEMENT)]
    polls: dict[int, Poll] = {}
    voted: set[int] = set()
    if polled:
        found = Poll.objects.filter(post_id__in=polled).prefetch_related("options")
        polls = {p.post_id: p for p in found}
        votes = PollVote.objects.filter(poll__post_id__in=polled, user_id=me)
        voted = set(votes.values_list("option_id", flat=True))
    states = {s.post_id: s for s in PostState.objects.filter(post_id__in=ids, user_id=me)}
    allowed = access.post_permissions(viewer, page)
    cards = internal_cards(viewer, page)
    for post in page:
        post.files = files.get(post.pk, [])  # type: ignore[attr-defined]
        post.reaction_counts = counts.get(post.pk, {})  # type: ignore[attr-defined]
        post.my_reaction = mine.get(post.pk)  # type: ignore[attr-defined]
        poll = polls.get(post.pk)
        if poll is not None:
            poll.my_votes = {o.pk for o in poll.options.all() if o.pk in voted}  # type: ignore[attr-defined]
        post.poll_data = poll  # type: ignore[attr-defined]
        post.state = states.get(post.pk)  # type: ignore[attr-defined]
        post.allowed = allowed[post.pk]  # type: ignore[attr-defined]
        post.internal_card = cards.get(post.pk)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Card:
    """The card of a link to Essaim itself, as the viewer may see it."""

    url: str
    title: str
    text: str


def _internal_link(body: str) -> tuple[str, str] | None:
    """The first link of a text to a post or a community of this site: ("post", id) or
    ("community", slug). A path counts alone (after a space or a bracket) or after this
    site's own address, never in another site's address (https://elsewhere/posts/12/)."""
    own = re.escape(urlsplit(settings.SITE_URL).netloc)
    found = re.search(
        rf"(?:https?://{own}|(?<![^\s(\[<]))/(?:posts/(\d{{1,18}})|c/([-\w]{{1,60}}))/",
        body,
        re.ASCII,
    )
    if found is None:
        return None
    return ("post", found.group(1)) if found.group(1) else ("community", found.group(2))


def internal_cards(viewer: access.Viewer, page: list[Post]) -> dict[int, Card]:
    """Links to Essaim itself are previewed from the viewer's own rights, never fetched:
    a post or community the viewer may not see gets no card (the link stays a link), so
    a card never tells an outsider what is behind it. Two queries for a page."""
    links = {p.pk: _internal_link(p.body) for p in page}
    post_ids = {int(v) for kind, v in filter(None, links.values()) if kind == "post"}
    slugs = {v for kind, v in filter(None, links.values()) if kind == "community"}
    linked_posts = posts(viewer).select_related("author").in_bulk(post_ids) if post_ids else {}
    linked = (
        {c.slug: c for c in access.visible(viewer, Community.objects.filter(slug__in=slugs))}
        if slugs
        else {}
    )
    cards = {}
    for post_id, link in links.items():
        if link is None:
            continue
        kind, value = link
        if kind == "post" and int(value) in linked_posts:
            target = linked_posts[int(value)]
            text = strip_tags(target.html)[:240]
            cards[post_id] = Card(f"/posts/{target.pk}/", target.author.display_name, text)
        elif kind == "community" and value in linked:
            community = linked[value]
            cards[post_id] = Card(
                f"/c/{community.slug}/", community.name, community.description[:240]
            )
    return cards


def post_detail(viewer: access.Viewer, post_id: object) -> Post:
    """One post, decorated, or NotFound (missing and hidden alike)."""
    pk = post_id if isinstance(post_id, int) and 0 < post_id < 2**63 else 0
    found = _with_relations(posts(viewer)).filter(pk=pk).first()
    if found is None:
        raise access.NotFound
    decorate(viewer, [found])
    return found


def comments_of(viewer: access.Viewer, post: Post) -> list[Comment]:
    """The comments of a post the viewer reads, oldest first, each with ``replies``,
    ``files``, ``reaction_counts``, ``my_reaction`` and ``allowed``."""
    found = list(
        access.visible(viewer, Comment.objects.filter(post=post))
        .select_related("author__profile")
        .order_by("created_at", "pk")
    )
    ids = [c.pk for c in found]
    me = viewer.pk or 0
    files: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in Attachment.objects.filter(comment_id__in=ids).order_by("pk"):
        files[attachment.comment_id or 0].append(attachment)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Reaction.objects.filter(comment_id__in=ids)
        .values("comment_id", "kind")
        .annotate(n=Count("pk"))
    ):
        counts[row["comment_id"]][row["kind"]] = row["n"]
    mine = dict(
        Reaction.objects.filter(comment_id__in=ids, user_id=me).values_list("comment_id", "kind")
    )
    post_allowed = getattr(post, "allowed", None)
    if post_allowed is None:
        post_allowed = access.post_permissions(viewer, [post])[post.pk]
    allowed = access.comment_permissions(viewer, found, post_allowed)
    top: list[Comment] = []
    by_pk = {c.pk: c for c in found}
    for comment in found:
        comment.replies_list = []  # type: ignore[attr-defined]
        comment.files = files.get(comment.pk, [])  # type: ignore[attr-defined]
        comment.reaction_counts = counts.get(comment.pk, {})  # type: ignore[attr-defined]
        comment.my_reaction = mine.get(comment.pk)  # type: ignore[attr-defined]
        comment.allowed = allowed[comment.pk]  # type: ignore[attr-defined]
    for comment in found:
        parent = by_pk.get(comment.parent_id or 0)
        if comment.parent_id is None:
            top.append(comment)
        elif parent is not None:
            parent.replies_list.append(comment)  # type: ignore[attr-defined]
    return top


def reactions_of(
    viewer: access.Viewer, post: Post, comment: Comment | None = None
) -> QuerySet[Reaction]:
    """Who reacted to a post (or one of its comments) the viewer reads, newest first;
    only the people the viewer may see."""
    target = Q(comment=comment) if comment is not None else Q(post=post, comment__isnull=True)
    people = access.visible(viewer, User.objects.filter(is_active=True))
    return (
        Reaction.objects.filter(target, user__in=people)
        .select_related("user")
        .order_by("-created_at", "-pk")
    )


def revisions_of(viewer: access.Viewer, post: Post) -> QuerySet[Revision]:
    """Earlier texts of a post the viewer reads, newest first."""
    return Revision.objects.filter(post=post).order_by("-created_at", "-pk")


@dataclass
class Tracking:
    """Who a must-read announcement reached, read it and acknowledged it."""

    audience: int
    read: int
    acknowledged: int
    waiting: list[User]  # not acknowledged yet (the first ones)


def tracking(viewer: access.Viewer, post: Post, *, limit: int = 100) -> Tracking:
    if not access.can(viewer, "track", post):
        raise access.Forbidden
    audience = access.audience(post)
    states = PostState.objects.filter(post=post, user__in=audience)
    done = states.filter(acknowledged_at__isnull=False).values("user")
    return Tracking(
        audience=audience.count(),
        read=states.filter(read_at__isnull=False).count(),
        acknowledged=states.filter(acknowledged_at__isnull=False).count(),
        waiting=list(audience.exclude(pk__in=done).order_by("display_name")[:limit]),
    )


def community_files(viewer: access.Viewer, community: Community) -> QuerySet[Attachment]:
    """The files of a community's posts and comments the viewer reads, newest first."""
    return (
        access.visible(viewer, Attachment.objects.filter(post__community=community))
        .select_related("uploader", "post")
        .order_by("-created_at", "-pk")
    )


def attachment(viewer: access.Viewer, attachment_id: object) -> Attachment:
    return access.access_attachment(viewer, attachment_id)


def trending_hashtags(viewer: access.Viewer, *, days: int = 7, limit: int = 10) -> list[str]:
    """The hashtags most used lately in the posts the viewer reads. Kept a few minutes in
    the cache, for that viewer: counting a week of a large company's tags took 70 ms of
    every home page (bench/bench_feed.py), and a trend does not move between two pages."""
    key = f"trending-hashtags:{viewer.pk or 0}:{days}:{limit}"
    found: list[str] | None = cache.get(key)
    if found is None:
        found = _trending_hashtags(viewer, days, limit)
        cache.set(key, found, SIGNALS_CACHE_SECONDS)
    return found


def _trending_hashtags(viewer: access.Viewer, days: int, limit: int) -> list[str]:
    since = timezone.now() - timedelta(days=days)
    rows = (
        # A hashtag's date is its post's: the same bound narrows the posts to check.
        Hashtag.objects.filter(
            created_at__gte=since, post__in=posts(viewer).filter(created_at__gte=since)
        )
        .values("name")
        .annotate(n=Count("pk"))
        .order_by("-n", "name")[:limit]
    )
    return [row["name"] for row in rows]


def my_reaction(viewer: access.Viewer, post: Post, comment: Comment | None = None) -> str | None:
    """The viewer's reaction to a post (or one of its comments), None without one."""
    target = Q(comment=comment) if comment is not None else Q(post=post, comment__isnull=True)
    return (
        Reaction.objects.filter(target, user_id=viewer.pk or 0)
        .values_list("kind", flat=True)
        .first()
    )

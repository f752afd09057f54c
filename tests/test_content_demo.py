"""The demo organisation's posts (essaim/content/demo.py), on a small organisation: texts
in French and English, counters that match the rows, authors who may publish where
their posts are, stored files that open, hashtags and mentions that match the HTML."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count, Q
from django.utils import timezone
from pytest_django import Settings

from essaim import access
from essaim.accounts.models import Role, User
from essaim.content.demo import DAYS, build_posts
from essaim.content.models import (
    Attachment,
    Comment,
    Hashtag,
    Mention,
    PollOption,
    PollVote,
    Post,
    PostKind,
    PostState,
    Reaction,
)
from essaim.content.storage import attachments
from essaim.demo import DemoSummary, build_organisation

pytestmark = pytest.mark.django_db

FRENCH = re.compile(r"\b(le|la|les|des|du|pour|nous|est|une|avec|sur|vos)\b", re.IGNORECASE)
ENGLISH = re.compile(r"\b(the|and|for|with|our|is|you|your|on|of)\b", re.IGNORECASE)
TAG_LINK = re.compile(r'<a href="/tags/([^/"]+)/"')
PERSON_LINK = re.compile(r'<a href="/people/(\d+)/"')


@pytest.fixture
def demo(settings: Settings, tmp_path: Path) -> DemoSummary:
    settings.FILES_DIR = tmp_path / "files"  # the stored files stay out of var/
    return build_organisation(users=60)


def language(text: str) -> str:
    return "en" if len(ENGLISH.findall(text)) > len(FRENCH.findall(text)) else "fr"


def test_posts_of_every_kind_in_french_and_english(demo: DemoSummary) -> None:
    posts = list(Post.objects.all())
    assert demo.content["posts"] == len(posts) >= 500
    languages = Counter(language(p.body) for p in posts)
    assert languages["fr"] > languages["en"] >= 0.03 * len(posts), languages
    kinds = Counter(p.kind for p in posts)
    assert kinds[PostKind.POST] and kinds[PostKind.POLL] and kinds[PostKind.ANNOUNCEMENT]
    assert Post.objects.filter(community__isnull=True, kind=PostKind.POST).exists()  # profiles
    assert Post.objects.filter(community__isnull=False).values("community").distinct().count() > 15
    assert Comment.objects.filter(parent__isnull=False).exists()  # replies
    assert not any("lorem" in p.body.lower() or "{" in p.body for p in posts)
    # Spread over the last DAYS days; comments and reactions come after their post.
    now = timezone.now()
    assert all(now - timedelta(days=DAYS + 1) < p.created_at <= now for p in posts)
    assert max(p.created_at for p in posts) - min(p.created_at for p in posts) > timedelta(40)
    for comment in Comment.objects.select_related("post", "parent"):
        assert comment.post.created_at <= comment.created_at <= comment.post.activity_at
        if comment.parent is not None:
            assert comment.parent.parent_id is None  # one level
            assert comment.parent.post_id == comment.post_id
            assert comment.parent.created_at <= comment.created_at
    # The summary counts what is there.
    assert demo.content["comments"] == Comment.objects.count()
    assert demo.content["reactions"] == Reaction.objects.count()
    assert demo.content["votes"] == PollVote.objects.count()
    assert demo.content["files"] == Attachment.objects.count() >= 6


def test_counters_equal_the_rows(demo: DemoSummary) -> None:
    posts = Post.objects.annotate(
        n_comments=Count("comments", distinct=True),
        n_reactions=Count("reactions", filter=Q(reactions__comment__isnull=True), distinct=True),
    )
    for post in posts:
        assert (post.comment_count, post.reaction_count) == (post.n_comments, post.n_reactions)
    assert sum(p.comment_count for p in posts) > len(posts)
    for comment in Comment.objects.annotate(n_reactions=Count("reactions")):
        assert comment.reaction_count == comment.n_reactions
    assert Comment.objects.filter(reaction_count__gt=0).exists()
    options = PollOption.objects.annotate(n_votes=Count("votes"))
    assert options and all(o.vote_count == o.n_votes for o in options)
    assert sum(o.vote_count for o in options) > 0
    # One reaction per person and post or comment, one vote per person and option.
    assert (
        not Reaction.objects.values("post", "comment", "user")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )


def test_authors_may_publish_where_their_posts_are(demo: DemoSummary) -> None:
    checked: dict[tuple[int, int | None, str], bool] = {}
    for post in Post.objects.select_related("author", "community"):
        key = (post.author_id, post.community_id, post.kind)
        if key not in checked:
            checked[key] = access.may_publish(post.author, post.community, post.kind)
        assert checked[key], (post.author, post.community, post.kind)
    # Company announcements: by the communications persona, a must-read to an org unit.
    company = Post.objects.filter(community__isnull=True, kind=PostKind.ANNOUNCEMENT)
    assert all(p.author.has_role(Role.COMMUNICATIONS) for p in company)
    assert company.filter(must_read=True).count() >= 2
    assert company.filter(org_unit__isnull=False, must_read=True).exists()
    # Acknowledged by people the announcement reaches.
    for post in company.filter(must_read=True):
        acknowledged = set(
            PostState.objects.filter(post=post, acknowledged_at__isnull=False).values_list(
                "user_id", flat=True
            )
        )
        assert acknowledged
        assert acknowledged <= set(access.audience(post).values_list("pk", flat=True))
    # Those who comment, react and vote read the post (a sample: access.can is per row).
    for comment in Comment.objects.select_related("author", "post")[::7][:150]:
        assert access.can(comment.author, "comment", comment.post), comment
    for reaction in Reaction.objects.select_related("user", "post", "comment__post")[::11][:150]:
        post = reaction.post or reaction.comment.post  # type: ignore[union-attr]
        assert access.can(reaction.user, "react", post), reaction
    for vote in PollVote.objects.select_related("user", "poll__post")[::5][:60]:
        assert access.can(vote.user, "vote", vote.poll.post), vote


def test_stored_files_open_and_match(demo: DemoSummary) -> None:
    storage = attachments()
    files = list(Attachment.objects.all())
    assert {a.kind for a in files} >= {"image", "text", "document"}
    for attachment in files:
        assert attachment.post_id is not None
        with storage.open(attachment.key, "rb") as handle:
            data = handle.read()
        assert len(data) == attachment.size
        assert hashlib.sha256(data).hexdigest() == attachment.sha256
        if attachment.kind == "image":
            assert attachment.width and attachment.height and storage.exists(attachment.thumb_key)


def test_hashtags_and_mentions_match_the_html(demo: DemoSummary) -> None:
    tags: dict[int, set[str]] = {}
    for post_id, name in Hashtag.objects.values_list("post_id", "name"):
        tags.setdefault(post_id, set()).add(name)
    mentioned: dict[int, set[int]] = {}
    for post_id, user_id in Mention.objects.filter(comment__isnull=True).values_list(
        "post_id", "user_id"
    ):
        mentioned.setdefault(post_id, set()).add(user_id)
    for post in Post.objects.all():
        assert set(TAG_LINK.findall(post.html)) == tags.get(post.pk, set()), post.html
        people = {int(pk) for pk in PERSON_LINK.findall(post.html)}
        assert people == mentioned.get(post.pk, set()), post.html
        assert "@**" not in post.html  # every mention was resolved
    assert tags and mentioned
    users = {u.pk: u for u in User.objects.all()}
    for mention in Mention.objects.select_related("post", "post__community")[::5][:150]:
        assert access.can(users[mention.user_id or 0], access.VIEW, mention.post)


def test_no_posts_at_scale_zero(settings: Settings, tmp_path: Path) -> None:
    settings.FILES_DIR = tmp_path / "files"
    summary = build_organisation(users=60, content_scale=0)
    assert summary.content == {"posts": 0}
    assert not Post.objects.exists()
    assert build_posts(seed=1, scale=0.1)["posts"] == Post.objects.count() > 0

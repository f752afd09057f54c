"""Posts, comments, reactions, mentions, hashtags, polls, announcements and the feed,
through the services and selectors every page and API route uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from essaim import access
from essaim.accounts.models import Role as GlobalRole
from essaim.accounts.models import User, UserRole
from essaim.accounts.services import ServiceError
from essaim.communities import services as community_services
from essaim.communities.models import Community, Membership, Role, Visibility
from essaim.content import selectors, services
from essaim.content.models import (
    Comment,
    Hashtag,
    Mention,
    Post,
    PostKind,
    PostState,
    Revision,
)
from essaim.directory.models import Follow, OrgUnit, Profile
from essaim.governance.models import AuditEntry
from essaim.http import CLI
from tests.conftest import Personas
from tests.test_communities import build as build_community

pytestmark = pytest.mark.django_db


def ids(found: list[Post] | selectors.FeedPage) -> list[int]:
    page = found.posts if isinstance(found, selectors.FeedPage) else found
    return [p.pk for p in page]


def home(viewer: User, **kwargs: object) -> list[int]:
    return ids(selectors.feed_page(viewer, selectors.Feed(**kwargs), size=100))  # type: ignore[arg-type]


@pytest.fixture
def spaces(personas: Personas) -> dict[str, Community]:
    return {v: build_community(personas, v) for v in Visibility}


def test_who_reads_a_community_post(personas: Personas, spaces: dict[str, Community]) -> None:
    made = {
        v: services.post_create(actor=personas.member, community=c, body=f"In {v}")
        for v, c in spaces.items()
    }
    outsider = set(ids(list(selectors.posts(personas.outsider))))
    assert outsider == {made["public"].pk, made["external"].pk}
    assert set(ids(list(selectors.posts(personas.external)))) == {made["external"].pk}
    assert set(ids(list(selectors.posts(personas.member)))) == {p.pk for p in made.values()}
    for post in made.values():
        for person in personas.all():
            listed = selectors.posts(person).filter(pk=post.pk).exists()
            assert access.can(person, "view", post) == listed, (person, post.community)


def test_a_post_follows_its_community_when_it_turns_private(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    post = services.post_create(actor=personas.member, community=spaces["public"], body="Hi")
    assert access.can(personas.outsider, "view", post)
    Community.objects.filter(pk=spaces["public"].pk).update(visibility=Visibility.PRIVATE)
    post.refresh_from_db()
    assert not access.can(personas.outsider, "view", Post.objects.get(pk=post.pk))
    assert post.pk not in home(personas.outsider)


def test_readers_may_not_post_and_outsiders_may_not_post_in(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    with pytest.raises(access.Forbidden):
        services.post_create(actor=personas.hr, community=spaces["private"], body="reader")
    with pytest.raises(access.Forbidden):
        services.post_create(actor=personas.outsider, community=spaces["public"], body="x")
    with pytest.raises(access.Forbidden):  # members do not announce
        services.post_create(
            actor=personas.member, community=spaces["public"], body="x", kind="announcement"
        )
    with pytest.raises(access.Forbidden):  # external customers have no profile feed
        services.post_create(actor=personas.external, community=None, body="x")


def test_bad_input_changes_nothing(personas: Personas, spaces: dict[str, Community]) -> None:
    community = spaces["public"]
    for kwargs, field in [
        ({"body": ""}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"body": "x", "kind": "memo"}, "kind"),
        ({"body": "x", "must_read": True}, "must_read"),
        ({"body": "x", "attachments": list(range(1, 20))}, "attachments"),
        ({"body": "x", "attachments": [999_999]}, "attachments"),
        ({"body": "x", "poll": {"options": ["only one"]}}, "poll.options"),
        ({"body": "x", "poll": {"options": ["a", "a"]}}, "poll.options"),
        ({"body": "x", "poll": {"options": "ab"}}, "poll.options"),
        (
            {"body": "x", "poll": {"options": ["a", "b"], "closes_at": timezone.now()}},
            "poll.closes_at",
        ),
    ]:
        with pytest.raises(ServiceError) as refused:
            services.post_create(actor=personas.owner, community=community, **kwargs)  # type: ignore[arg-type]
        assert refused.value.field == field, kwargs
    assert not Post.objects.exists()


def test_mentions_reach_only_people_who_read_the_post(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    post = services.post_create(
        actor=personas.member,
        community=spaces["private"],
        body=(
            f"Hello @**{personas.animator.display_name}|{personas.animator.pk}** and "
            f"@**{personas.outsider.display_name}|{personas.outsider.pk}** and @**Nobody**"
        ),
    )
    assert set(Mention.objects.values_list("user_id", flat=True)) == {personas.animator.pk}
    # The outsider's name is a link to their profile (the author may name them); the
    # post is still invisible to them, and nothing tells them about it.
    assert f'href="/people/{personas.outsider.pk}/"' in post.html
    assert "@Nobody" in post.html and 'href="/people/"' not in post.html
    assert not access.can(personas.outsider, "view", post)


def test_everyone_mentions_are_for_runners_and_throttled(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    community = spaces["public"]
    services.post_create(actor=personas.member, community=community, body="@all look")
    assert not Mention.objects.filter(everyone=True).exists()
    services.post_create(actor=personas.animator, community=community, body="@all look")
    assert Mention.objects.filter(everyone=True).count() == 1
    with pytest.raises(ServiceError) as refused:
        services.post_create(actor=personas.owner, community=community, body="@tous again")
    assert refused.value.code == "throttled"
    assert Post.objects.count() == 2


def test_hashtags_and_the_hashtag_feed(personas: Personas, spaces: dict[str, Community]) -> None:
    public = services.post_create(
        actor=personas.member, community=spaces["public"], body="#Lyon #lyon `#code` #Été"
    )
    secret = services.post_create(
        actor=personas.member, community=spaces["secret"], body="#lyon hidden"
    )
    assert set(Hashtag.objects.filter(post=public).values_list("name", flat=True)) == {
        "lyon",
        "été",
    }
    assert home(personas.member, scope="hashtag", hashtag="lyon") == [secret.pk, public.pk]
    assert home(personas.outsider, scope="hashtag", hashtag="lyon") == [public.pk]
    assert selectors.trending_hashtags(personas.outsider) == ["lyon", "été"]
    # Kept a few minutes, for each viewer apart.
    for _ in range(2):
        services.post_create(actor=personas.member, community=spaces["public"], body="#aaa")
    assert selectors.trending_hashtags(personas.outsider) == ["lyon", "été"]
    assert selectors.trending_hashtags(personas.member) == ["aaa", "lyon", "été"]
    cache.clear()
    assert selectors.trending_hashtags(personas.outsider) == ["aaa", "lyon", "été"]


def test_edit_keeps_history_and_rechecks_the_right_to_publish(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    community = spaces["private"]
    post = services.post_create(actor=personas.member, community=community, body="first")
    services.post_edit(actor=personas.member, post=post, body="second #new")
    assert post.body == "second #new" and post.edited_at is not None
    assert list(Revision.objects.filter(post=post).values_list("body", flat=True)) == ["first"]
    assert Hashtag.objects.filter(post=post, name="new").exists()
    with pytest.raises(access.Forbidden):
        services.post_edit(actor=personas.animator, post=post, body="not mine")
    Membership.objects.filter(community=community, user=personas.member).update(role=Role.READER)
    with pytest.raises(access.Forbidden):
        services.post_edit(actor=personas.member, post=post, body="demoted")
    assert Post.objects.get(pk=post.pk).body == "second #new"


def test_delete_is_soft_and_audited_when_someone_else_deletes(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    community = spaces["public"]
    mine = services.post_create(actor=personas.member, community=community, body="a")
    theirs = services.post_create(actor=personas.member, community=community, body="b")
    with pytest.raises(access.Forbidden):
        services.post_delete(actor=personas.outsider, origin=CLI, post=mine)
    services.post_delete(actor=personas.member, origin=CLI, post=mine)
    services.post_delete(actor=personas.animator, origin=CLI, post=theirs)
    assert Post.objects.filter(deleted_at__isnull=False).count() == 2
    assert not selectors.posts(personas.member).exists()
    assert list(
        AuditEntry.objects.filter(action="post.delete").values_list("actor", flat=True)
    ) == [personas.animator.pk]
    with pytest.raises(access.NotFound):
        selectors.post_detail(personas.member, mine.pk)


def test_comments_nest_one_level(personas: Personas, spaces: dict[str, Community]) -> None:
    post = services.post_create(actor=personas.member, community=spaces["public"], body="Q")
    top = services.comment_create(actor=personas.outsider, post=post, body="A1")
    reply = services.comment_create(actor=personas.owner, post=post, body="R1", parent=top)
    deeper = services.comment_create(actor=personas.member, post=post, body="R2", parent=reply)
    assert deeper.parent_id == top.pk
    post.refresh_from_db()
    assert post.comment_count == 3
    tree = selectors.comments_of(personas.member, post)
    assert [c.pk for c in tree] == [top.pk]
    assert [r.pk for r in tree[0].replies_list] == [reply.pk, deeper.pk]  # type: ignore[attr-defined]
    other = services.post_create(actor=personas.member, community=spaces["public"], body="other")
    with pytest.raises(ServiceError):
        services.comment_create(actor=personas.member, post=other, body="x", parent=top)
    services.comment_delete(actor=personas.outsider, origin=CLI, comment=top)
    post.refresh_from_db()
    assert post.comment_count == 0
    assert selectors.comments_of(personas.member, post) == []


def test_who_may_comment(personas: Personas, spaces: dict[str, Community]) -> None:
    private = services.post_create(actor=personas.member, community=spaces["private"], body="p")
    with pytest.raises(access.Forbidden):  # a reader reads, does not write
        services.comment_create(actor=personas.hr, post=private, body="x")
    with pytest.raises(access.Forbidden):
        services.comment_create(actor=personas.outsider, post=private, body="x")
    external = services.post_create(actor=personas.member, community=spaces["external"], body="e")
    services.comment_create(actor=personas.external, post=external, body="customer reply")
    archived = Community.objects.create(name="Old", slug="old", visibility=Visibility.PUBLIC)
    Membership.objects.create(community=archived, user=personas.member)
    old = services.post_create(actor=personas.member, community=archived, body="old")
    archived.archived_at = timezone.now()
    archived.save()
    old.refresh_from_db()
    with pytest.raises(access.Forbidden):
        services.comment_create(actor=personas.member, post=old, body="late")
    with pytest.raises(access.Forbidden):
        services.react(actor=personas.member, post=old, kind="like")


def test_reactions_one_per_person_and_changeable(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    post = services.post_create(actor=personas.member, community=spaces["public"], body="r")
    assert services.react(actor=personas.outsider, post=post, kind="like") == {"like": 1}
    assert services.react(actor=personas.outsider, post=post, kind="thanks") == {"thanks": 1}
    assert services.react(actor=personas.owner, post=post, kind="thanks") == {"thanks": 2}
    assert services.react(actor=personas.owner, post=post, kind=None) == {"thanks": 1}
    post.refresh_from_db()
    assert post.reaction_count == 1
    with pytest.raises(ServiceError):
        services.react(actor=personas.owner, post=post, kind="angry")
    comment = services.comment_create(actor=personas.owner, post=post, body="c")
    assert services.react(actor=personas.member, post=post, comment=comment, kind="curious") == {
        "curious": 1
    }
    # Who reacted, newest first.
    who = selectors.reactions_of(personas.member, post)
    assert [r.user_id for r in who] == [personas.outsider.pk]


def test_polls(personas: Personas, spaces: dict[str, Community]) -> None:
    community = spaces["public"]
    post = services.post_create(
        actor=personas.member,
        community=community,
        body="Lunch?",
        poll={"options": ["Pizza", "Sushi", "Salad"]},
    )
    assert post.kind == PostKind.POLL
    a, b, c = post.poll.options.all()  # type: ignore[attr-defined]
    assert services.poll_vote(actor=personas.outsider, post=post, options=[a.pk]) == {
        a.pk: 1, b.pk: 0, c.pk: 0,
    }  # fmt: skip
    assert services.poll_vote(actor=personas.outsider, post=post, options=[b.pk])[b.pk] == 1
    with pytest.raises(ServiceError):
        services.poll_vote(actor=personas.owner, post=post, options=[a.pk, b.pk])
    other = services.post_create(
        actor=personas.member,
        community=community,
        body="Many",
        poll={"options": ["x", "y"], "multiple": True},
    )
    x, y = other.poll.options.all()  # type: ignore[attr-defined]
    with pytest.raises(ServiceError):  # another poll's choice
        services.poll_vote(actor=personas.owner, post=other, options=[a.pk])
    assert services.poll_vote(actor=personas.owner, post=other, options=[x.pk, y.pk]) == {
        x.pk: 1, y.pk: 1,
    }  # fmt: skip
    other.poll.closes_at = timezone.now() - timedelta(minutes=1)  # type: ignore[attr-defined]
    other.poll.save()  # type: ignore[attr-defined]
    with pytest.raises(ServiceError) as refused:
        services.poll_vote(actor=personas.member, post=other, options=[x.pk])
    assert refused.value.code == "conflict"


def test_company_announcements_reach_their_units(personas: Personas) -> None:
    top = OrgUnit.objects.create(name="Top", path="")
    top.path = f"/{top.pk}/"
    top.save()
    sales = OrgUnit.objects.create(name="Sales", parent=top, path="")
    sales.path = f"/{top.pk}/{sales.pk}/"
    sales.save()
    Profile.objects.filter(user=personas.member).update(org_unit=sales)
    Profile.objects.filter(user=personas.owner).update(org_unit=top)
    with pytest.raises(access.Forbidden):
        services.post_create(actor=personas.member, community=None, body="x", kind="announcement")
    UserRole.objects.create(user=personas.animator, role=GlobalRole.COMMUNICATIONS)
    comms = User.objects.get(pk=personas.animator.pk)
    to_all = services.post_create(actor=comms, community=None, body="All", kind="announcement")
    to_sales = services.post_create(
        actor=comms, community=None, body="Sales", kind="announcement", org_unit=sales,
        must_read=True,
    )  # fmt: skip
    assert set(home(personas.member)) >= {to_all.pk, to_sales.pk}
    assert to_sales.pk not in home(personas.owner)  # above the unit, not in it
    assert to_all.pk in home(personas.owner) and to_all.pk not in home(personas.external)
    audience = set(access.audience(to_sales).values_list("pk", flat=True))
    assert personas.member.pk in audience and personas.owner.pk not in audience
    # Must read: acknowledgement, tracking, a reminder a day.
    services.post_state_set(actor=personas.member, post=to_sales, acknowledged=True)
    with pytest.raises(ServiceError):
        services.post_state_set(actor=personas.member, post=to_all, acknowledged=True)
    with pytest.raises(access.Forbidden):
        selectors.tracking(personas.member, to_sales)
    seen = selectors.tracking(comms, to_sales)
    assert (seen.audience, seen.read, seen.acknowledged) == (len(audience), 1, 1)
    assert personas.member not in seen.waiting and comms in seen.waiting
    assert services.remind_unacknowledged(actor=comms, post=to_sales) == len(audience) - 1
    with pytest.raises(ServiceError):
        services.remind_unacknowledged(actor=comms, post=to_sales)


def test_home_feed_holds_my_communities_followed_people_and_announcements(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    other = Community.objects.create(name="Other", slug="other", visibility=Visibility.PUBLIC)
    Membership.objects.create(community=other, user=personas.owner)
    in_mine = services.post_create(actor=personas.owner, community=spaces["public"], body="1")
    elsewhere = services.post_create(actor=personas.owner, community=other, body="2")
    profile = services.post_create(actor=personas.owner, community=None, body="3")
    assert home(personas.member) == [in_mine.pk]
    Follow.objects.create(follower=personas.member, followed=personas.owner)
    assert home(personas.member) == [profile.pk, elsewhere.pk, in_mine.pk]
    assert home(personas.member, scope="profile", person=personas.owner) == [
        profile.pk, elsewhere.pk, in_mine.pk,
    ]  # fmt: skip
    assert home(personas.member, community=spaces["public"]) == [in_mine.pk]
    # Unread, saved.
    services.posts_read(actor=personas.member, posts=[profile])
    assert home(personas.member, unread=True) == [elsewhere.pk, in_mine.pk]
    services.post_state_set(actor=personas.member, post=in_mine, saved=True)
    assert home(personas.member, scope="saved") == [in_mine.pk]
    assert home(personas.member, kind="poll") == []


def test_latest_pages_never_repeat_or_skip(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    made = [
        services.post_create(actor=personas.member, community=spaces["public"], body=str(i))
        for i in range(7)
    ]
    Post.objects.update(created_at=timezone.now())  # same instant: the id breaks the tie
    seen: list[int] = []
    cursor = None
    while True:
        page = selectors.feed_page(personas.member, selectors.Feed(), cursor=cursor, size=3)
        seen += ids(page)
        # A post arriving between two pages does not shift the next one.
        services.post_create(actor=personas.owner, community=spaces["secret"], body="new")
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(p.pk for p in made)[::-1]
    with pytest.raises(selectors.BadCursor):
        selectors.feed_page(personas.member, selectors.Feed(), cursor="bm9wZQ==")


def test_relevant_ranks_closeness_engagement_and_must_read(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    community = spaces["public"]
    now = timezone.now()
    plain = services.post_create(actor=personas.owner, community=community, body="plain")
    liked = services.post_create(actor=personas.owner, community=community, body="liked")
    close = services.post_create(actor=personas.animator, community=community, body="close")
    old = services.post_create(actor=personas.animator, community=community, body="old")
    Post.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=3))
    for person in (personas.outsider, personas.hr, personas.admin, personas.moderator):
        services.react(actor=person, post=liked, kind="like")
    earlier = services.post_create(actor=personas.animator, community=community, body="e")
    Post.objects.filter(pk=earlier.pk).update(created_at=now - timedelta(days=20))
    services.comment_create(actor=personas.member, post=earlier, body="I talk to them")
    Post.objects.filter(pk__in=[plain.pk, liked.pk, close.pk]).update(created_at=now)
    ranked = ids(selectors.feed_page(personas.member, selectors.Feed(), order="relevant", size=10))
    assert ranked.index(close.pk) < ranked.index(plain.pk)
    assert ranked.index(liked.pk) < ranked.index(plain.pk)
    assert ranked[-1] == old.pk and earlier.pk not in ranked  # out of the window


def test_a_communitys_week_of_posts_is_counted_and_kept_a_while(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    """ "relevant" weighs a community's last seven days of posts (deleted and older ones
    left out); the count is kept a few minutes."""
    public, private = spaces["public"], spaces["private"]
    now = timezone.now()
    made = [
        services.post_create(actor=personas.owner, community=public, body=str(i)) for i in range(4)
    ]
    Post.objects.filter(pk=made[0].pk).update(created_at=now - timedelta(days=8))
    services.post_delete(actor=personas.owner, origin=CLI, post=made[1])
    assert selectors._week_posts({public.pk, private.pk}, now) == {public.pk: 2, private.pk: 0}
    services.post_create(actor=personas.owner, community=public, body="one more")
    assert selectors._week_posts({public.pk}, now) == {public.pk: 2}
    cache.clear()
    assert selectors._week_posts({public.pk}, now) == {public.pk: 3}


def test_a_page_is_read_in_a_fixed_number_of_queries(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    def page_queries(count: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        Post.objects.all().delete()
        for i in range(count):
            post = services.post_create(
                actor=personas.owner,
                community=spaces["public"],
                body=f"#t{i}",
                poll={"options": ["a", "b"]} if i % 2 else None,
            )
            services.react(actor=personas.member, post=post, kind="like")
        with CaptureQueriesContext(connection) as queries:
            selectors.feed_page(personas.member, selectors.Feed(), size=20)
        return len(queries)

    page_queries(1)  # the viewer's roles are read once and kept
    assert page_queries(2) == page_queries(12)


def test_state_follow_mute_read(personas: Personas, spaces: dict[str, Community]) -> None:
    post = services.post_create(actor=personas.owner, community=spaces["public"], body="s")
    state = services.post_state_set(actor=personas.member, post=post, following=True)
    assert state.following is True and not state.muted
    state = services.post_state_set(actor=personas.member, post=post, muted=True)
    assert state.muted and state.following is False
    assert services.posts_read(actor=personas.member, posts=[post]) == 1
    assert services.posts_read(actor=personas.member, posts=[post]) == 0
    secret = services.post_create(actor=personas.owner, community=spaces["secret"], body="s")
    assert services.posts_read(actor=personas.outsider, posts=[secret]) == 0
    assert not PostState.objects.filter(user=personas.outsider).exists()
    with pytest.raises(access.Forbidden):
        services.post_state_set(actor=personas.outsider, post=secret, saved=True)


def test_comment_edit_history_and_rights(personas: Personas, spaces: dict[str, Community]) -> None:
    post = services.post_create(actor=personas.owner, community=spaces["public"], body="s")
    comment = services.comment_create(actor=personas.member, post=post, body="one")
    services.comment_edit(actor=personas.member, comment=comment, body="two")
    assert list(Revision.objects.filter(comment=comment).values_list("body", flat=True)) == ["one"]
    with pytest.raises(access.Forbidden):
        services.comment_edit(actor=personas.owner, comment=comment, body="mine now")
    assert Comment.objects.get(pk=comment.pk).body == "two"


def test_links_to_essaim_are_previewed_from_the_readers_rights(
    personas: Personas, spaces: dict[str, Community], settings: Any
) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    secret = services.post_create(
        actor=personas.owner, community=spaces["secret"], body="The secret plan"
    )
    public = spaces["public"]
    sharing = services.post_create(
        actor=personas.member,
        community=spaces["external"],
        body=f"See http://127.0.0.1:8000/posts/{secret.pk}/ and /c/{public.slug}/",
    )
    assert sharing.link is None  # never fetched
    card = selectors.post_detail(personas.member, sharing.pk).internal_card  # type: ignore[attr-defined]
    assert card.title == personas.owner.display_name and "secret plan" in card.text
    for reader in (personas.outsider, personas.external):
        seen = selectors.post_detail(reader, sharing.pk)
        assert seen.internal_card is None  # type: ignore[attr-defined]
    linking = services.post_create(
        actor=personas.member, community=spaces["external"], body=f"Join /c/{public.slug}/"
    )
    assert selectors.post_detail(personas.outsider, linking.pk).internal_card.title == public.name  # type: ignore[attr-defined]
    assert selectors.post_detail(personas.external, linking.pk).internal_card is None  # type: ignore[attr-defined]
    # Only this site's address, or a path alone, is a link to Essaim: another site's
    # address that holds the same path, a look-alike host or user info are not.
    for lookalike in (
        f"https://evil.example/posts/{secret.pk}/",
        f"http://127.0.0.1:8000.evil.example/posts/{secret.pk}/",
        f"http://127.0.0.1:8000@evil.example/posts/{secret.pk}/",
        f"http://user@127.0.0.1:8000/posts/{secret.pk}/",
        f"//127.0.0.1:8000/posts/{secret.pk}/",
        f"https://evil.example/c/{public.slug}/",
    ):
        elsewhere = services.post_create(
            actor=personas.member, community=spaces["external"], body=f"See {lookalike}"
        )
        seen = selectors.post_detail(personas.member, elsewhere.pk)
        assert seen.internal_card is None, lookalike  # type: ignore[attr-defined]
    quoted = services.post_create(
        actor=personas.member, community=spaces["external"], body=f"[plan](/posts/{secret.pk}/)"
    )
    assert selectors.post_detail(personas.member, quoted.pk).internal_card.url  # type: ignore[attr-defined]


def test_an_announcement_may_carry_a_poll(personas: Personas, spaces: dict[str, Community]) -> None:
    post = services.post_create(
        actor=personas.animator,
        community=spaces["public"],
        body="Which date for the seminar?",
        kind="announcement",
        poll={"options": ["June", "July"]},
    )
    shown = selectors.post_detail(personas.member, post.pk)
    assert shown.kind == "announcement"
    assert [o.label for o in shown.poll_data.options.all()] == ["June", "July"]  # type: ignore[attr-defined]


def test_nul_characters_are_dropped_not_a_server_error(
    personas: Personas, spaces: dict[str, Community]
) -> None:
    post = services.post_create(
        actor=personas.member, community=spaces["public"], body="a\x00b <scr\x00ipt>"
    )
    comment = services.comment_create(actor=personas.member, post=post, body="c\x00d")
    post.refresh_from_db()
    assert post.body == "ab <script>" and "\x00" not in post.html and comment.body == "cd"


def test_an_administrator_who_only_reads_a_community_does_not_announce_in_it(
    personas: Personas,
) -> None:
    """Announcements in a community are its own owners' and animators' (found by a state
    machine: CommunityRule's "manage" admits administrators)."""
    board = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Board", visibility="private"
    )
    Membership.objects.create(community=board, user=personas.admin, role=Role.READER)
    assert not access.may_publish(personas.admin, board, "post")
    assert not access.may_publish(personas.admin, board, PostKind.ANNOUNCEMENT)
    assert access.may_publish(personas.owner, board, PostKind.ANNOUNCEMENT)

"""The one policy, for posts, comments and files: its three forms agree for every persona
and object (as tests/test_access.py checks for the other types), and the page forms the
feed uses (post_permissions, comment_permissions, can_many) say what ``can`` says.

The objects: a post in a community of each visibility and in an archived one, a poll, a
profile post, company announcements to everyone, to an org unit and to a site, a deleted
post; comments and replies on them, a deleted one; files attached to posts and comments,
unattached ones (of an active and of a deactivated uploader)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from essaim import access
from essaim.accounts.models import Role as GlobalRole
from essaim.accounts.models import User, UserRole
from essaim.communities import services as community_services
from essaim.communities.models import Membership, Role, Visibility
from essaim.content import services
from essaim.content.models import Attachment, Comment, Post, PostKind
from essaim.directory import services as directory_services
from essaim.directory.models import Profile
from essaim.http import CLI
from tests.conftest import Personas, make_user
from tests.test_communities import build

pytestmark = pytest.mark.django_db

Viewer = User | AnonymousUser
_keys = iter(range(1, 10_000))


def upload(uploader: User, name: str = "f.txt") -> Attachment:
    """A file as content.files would record it (its bytes are not needed here)."""
    n = next(_keys)
    return Attachment.objects.create(
        uploader=uploader, key=f"test/{n}", name=name, mime="text/plain", kind="text",
        size=1, sha256=f"{n:064d}",
    )  # fmt: skip


@dataclass
class World:
    posts: list[Post]
    comments: list[Comment]
    files: list[Attachment]
    viewers: list[tuple[str, Viewer]]


@pytest.fixture
def world(personas: Personas) -> World:
    comms = make_user("comms")
    UserRole.objects.create(user=comms, role=GlobalRole.COMMUNICATIONS)
    former = make_user("former")
    # Org units and a site for the announcements: the member in Sales, the owner above.
    top = directory_services.org_unit_save(actor=personas.hr, origin=CLI, name="Top", parent=None)
    sales = directory_services.org_unit_save(
        actor=personas.hr, origin=CLI, name="Sales", parent=top
    )
    lyon = directory_services.site_save(
        actor=personas.hr, origin=CLI, name="Lyon", city="Lyon", country="FR"
    )
    Profile.objects.filter(user=personas.member).update(org_unit=sales)
    Profile.objects.filter(user=personas.owner).update(org_unit=top)
    Profile.objects.filter(user=personas.hr).update(site=lyon)

    posts: list[Post] = []
    comments: list[Comment] = []
    files: list[Attachment] = []
    communities = {v: build(personas, v) for v in Visibility}
    archived = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Old project", visibility=Visibility.PRIVATE
    )
    Membership.objects.create(community=archived, user=personas.member, role=Role.MEMBER)
    for community in (*communities.values(), archived):
        Membership.objects.create(community=community, user=former, role=Role.MEMBER)
        own = upload(personas.member)
        post = services.post_create(
            actor=personas.member, community=community, body=f"In {community.name}",
            attachments=[own.pk],
        )  # fmt: skip
        note = upload(personas.owner)
        top_comment = services.comment_create(
            actor=personas.owner, post=post, body="Answer", attachments=[note.pk]
        )
        reply = services.comment_create(
            actor=personas.member, post=post, body="Reply", parent=top_comment
        )
        by_former = services.post_create(actor=former, community=community, body="Mine")
        posts += [post, by_former]
        comments += [top_comment, reply]
        files += [own, note]
    # Announcements, an announcement in a community, a poll.
    public = communities[Visibility.PUBLIC]
    posts.append(
        services.post_create(
            actor=personas.animator, community=public, body="News", kind=PostKind.ANNOUNCEMENT
        )
    )
    posts.append(
        services.post_create(
            actor=personas.owner, community=public, body="Lunch?", poll={"options": ["a", "b"]}
        )
    )
    external = communities[Visibility.EXTERNAL]
    by_customer = services.post_create(actor=personas.external, community=external, body="Hi")
    comments.append(services.comment_create(actor=personas.external, post=by_customer, body="Me"))
    posts.append(by_customer)
    for target in ({}, {"org_unit": sales}, {"org_unit": top}, {"site": lyon}):
        posts.append(
            services.post_create(
                actor=comms, community=None, body="Company", kind=PostKind.ANNOUNCEMENT,
                must_read=bool(target), **target,
            )
        )  # fmt: skip
    # Profile posts, with a comment and a file.
    profile = services.post_create(actor=personas.outsider, community=None, body="On my profile")
    comments.append(services.comment_create(actor=personas.hr, post=profile, body="Nice"))
    profile_file = upload(personas.member)
    posts += [
        profile,
        services.post_create(
            actor=personas.member, community=None, body="", attachments=[profile_file.pk]
        ),
    ]
    files.append(profile_file)
    # Deleted: a post (with its comment and file) and a comment of a live post.
    gone_file = upload(personas.member)
    gone = services.post_create(
        actor=personas.member, community=public, body="Oops", attachments=[gone_file.pk]
    )
    gone_comment = services.comment_create(actor=personas.owner, post=gone, body="On it")
    services.post_delete(actor=personas.member, origin=CLI, post=gone)
    deleted_file = upload(personas.owner)
    deleted_comment = services.comment_create(
        actor=personas.owner, post=posts[0], body="Retracted", attachments=[deleted_file.pk]
    )
    services.comment_delete(actor=personas.owner, origin=CLI, comment=deleted_comment)
    posts.append(gone)
    comments += [gone_comment, deleted_comment]
    files += [gone_file, deleted_file]
    # Unattached files: the uploader's alone, and nobody's once they are deactivated.
    files += [upload(personas.member), upload(personas.deactivated), upload(personas.external)]
    # The archive, and a former member of everything.
    community_services.community_archive(actor=personas.owner, origin=CLI, community=archived)
    for community in (*communities.values(), archived):
        Membership.objects.filter(community=community, user=former).delete()
    viewers: list[tuple[str, Viewer]] = [
        *personas.items(),
        ("comms", User.objects.get(pk=comms.pk)),
        ("former", former),
        ("anonymous", AnonymousUser()),
    ]
    return World(
        posts=list(Post.objects.filter(pk__in=[o.pk for o in posts])),
        comments=list(Comment.objects.filter(pk__in=[o.pk for o in comments])),
        files=list(Attachment.objects.filter(pk__in=[o.pk for o in files])),
        viewers=viewers,
    )


def _disagreements(world: World) -> list[tuple[str, str, bool, bool, bool]]:
    found = []
    objects: list[Model] = [*world.posts, *world.comments, *world.files]
    for name, viewer in world.viewers:
        for obj in objects:
            model = type(obj)
            allowed = access.can(viewer, access.VIEW, obj)
            listed = access.visible(viewer, model._default_manager.filter(pk=obj.pk)).exists()
            receives = (
                isinstance(viewer, User) and access.audience(obj).filter(pk=viewer.pk).exists()
            )
            if not allowed == listed == receives:
                found.append((name, f"{model.__name__} {obj.pk}", allowed, listed, receives))
    return found


def test_the_three_forms_agree_for_every_persona_and_post_comment_and_file(
    world: World,
) -> None:
    assert _disagreements(world) == []


def test_the_page_forms_say_what_can_says(world: World) -> None:
    """post_permissions and comment_permissions, for the posts and comments a viewer reads
    through ``visible`` (their precondition), and can_many for every object."""
    post_rule, comment_rule = access.RULES[Post], access.RULES[Comment]
    checked = 0
    for name, viewer in world.viewers:
        for objs in (world.posts, world.comments, world.files):
            bulk = access.can_many(viewer, objs)
            assert bulk == {o.pk: access.can(viewer, access.VIEW, o) for o in objs}, name
        read = list(
            access.visible(viewer, Post.objects.filter(pk__in=[p.pk for p in world.posts]))
            .select_related("community")
            .order_by("pk")
        )
        allowed = access.post_permissions(viewer, read)
        for post in read:
            want = frozenset(a for a in post_rule.actions if access.can(viewer, a, post))
            assert allowed[post.pk] == want, (name, post, allowed[post.pk], want)
            assert access.VIEW in want
            comments = list(
                access.visible(viewer, Comment.objects.filter(post=post)).order_by("pk")
            )
            on_comments = access.comment_permissions(viewer, comments, allowed[post.pk])
            for one in comments:
                want = frozenset(a for a in comment_rule.actions if access.can(viewer, a, one))
                assert on_comments[one.pk] == want, (name, one, on_comments[one.pk], want)
                checked += 1
            checked += 1
        if not isinstance(viewer, User) or not viewer.is_active:
            assert read == []
            assert access.post_permissions(viewer, world.posts) == {
                p.pk: frozenset() for p in world.posts
            }
    assert checked > 100


def test_a_communitys_posts_are_what_visible_says(world: World) -> None:
    """access.community_posts, the community feed's shorter query, against visible()."""
    places = {p.community for p in world.posts if p.community is not None}
    assert len(places) >= 4
    for name, viewer in world.viewers:
        for place in places:
            short = set(access.community_posts(viewer, place).values_list("pk", flat=True))
            long = access.visible(viewer, Post.objects.filter(community=place))
            assert short == set(long.values_list("pk", flat=True)), (name, place)


def test_what_each_persona_reads(world: World, personas: Personas) -> None:
    """A few rows of the table, spelled out, so that the three forms agreeing on a wrong
    answer shows too."""

    def reads(name: str) -> set[str]:
        viewer = dict(world.viewers)[name]
        return {
            p.body
            for p in world.posts
            if access.can(viewer, access.VIEW, p) and p.community_id is None
        }

    company = {"Company", "On my profile", ""}
    # Company announcements: the member is in Sales (below Top), hr at Lyon, the owner in
    # Top; everyone reads the one to everyone; comms and administrators read them all.
    counts = {
        name: sum(
            1
            for p in world.posts
            if p.kind == PostKind.ANNOUNCEMENT
            and p.community_id is None
            and access.can(dict(world.viewers)[name], access.VIEW, p)
        )
        for name in ("member", "owner", "hr", "outsider", "comms", "admin", "external")
    }
    assert counts == {
        "member": 3,  # to everyone, to Sales, to Top
        "owner": 2,  # to everyone, to Top
        "hr": 2,  # to everyone, to Lyon
        "outsider": 1,
        "comms": 4,
        "admin": 4,
        "external": 0,
    }
    assert reads("outsider") == company
    assert reads("external") == set() and reads("anonymous") == set()
    assert reads("deactivated") == set()
    # The former member reads the public and external communities' posts, not the others.
    former = dict(world.viewers)["former"]
    theirs = [p for p in world.posts if p.body == "Mine"]
    assert {
        p.community and p.community.visibility for p in theirs if access.can(former, "view", p)
    } == {
        Visibility.PUBLIC,
        Visibility.EXTERNAL,
    }
    assert not any(access.can(former, "edit", p) for p in theirs)
    # Unattached files: their uploader's alone.
    unattached = [f for f in world.files if f.post_id is None]
    assert [
        sorted(n for n, v in world.viewers if access.can(v, "view", f)) for f in unattached
    ] == [["member"], [], ["external"]]
    assert personas.deactivated.pk == unattached[1].uploader_id

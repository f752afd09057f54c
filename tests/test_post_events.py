"""Post events, checked with verify_action: a client that keeps, for each post it shows,
its comment count, reactions and poll votes, and applies the events it receives, ends
where a fresh fetch through the API would; the events reach the community's readers and
no one else (an outsider of a private or secret community, a customer of an internal
one, a former member); a profile post reaches its author's followers; a mention reaches
only the people named who may read the post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from django.test import Client

from essaim import access
from essaim.accounts.models import Role as GlobalRole
from essaim.accounts.models import User, UserRole
from essaim.accounts.services import ServiceError
from essaim.communities import services as community_services
from essaim.communities.models import Community, Visibility
from essaim.content import selectors, services
from essaim.content.models import Mention, Post
from essaim.directory import services as directory_services
from essaim.directory.models import Profile
from essaim.http import CLI
from essaim.realtime import events
from tests.conftest import Personas, make_user
from tests.test_communities import build
from tests.verify import AHEAD, NOTIFICATION_EVENTS, verify_action

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit publishes

PUBLIC, PRIVATE, SECRET, EXTERNAL = (
    Visibility.PUBLIC,
    Visibility.PRIVATE,
    Visibility.SECRET,
    Visibility.EXTERNAL,
)
API = "/api/v1"
# What each event may carry: ids and counts, never text.
EVENT_DATA = {
    "post.created": {"post", "community", "author", "kind", "must_read"},
    "post.updated": {"post", "community", "author", "pinned"},
    "post.deleted": {"post", "community"},
    "post.mentioned": {"post", "community", "author", "comment"},
    "comment.created": {"post", "community", "comment", "parent", "author", "comments"},
    "comment.updated": {"post", "community", "comment", "author"},
    "comment.deleted": {"post", "community", "comment", "comments"},
    "reaction.changed": {"post", "community", "comment", "reactions"},
    "poll.voted": {"post", "community", "votes"},
}
# Who reads the content of each community of tests.test_communities.build: its members
# (owner, animator, member, the reader hr), every employee in a public or external one
# (the invitee compliance, the administrator …), and the customer in the external one.
EMPLOYEES = {"owner", "member", "outsider", "animator", "moderator", "compliance", "hr", "admin"}
READERS = {
    PUBLIC: EMPLOYEES,
    PRIVATE: {"owner", "animator", "member", "hr"},
    SECRET: {"owner", "animator", "member", "hr"},
    EXTERNAL: EMPLOYEES | {"external"},
}


@dataclass
class Shown:
    """What a client shows of one post."""

    comments: int
    reactions: dict[str, int] = field(default_factory=dict)
    votes: dict[int, int] = field(default_factory=dict)


State = dict[int, Shown] | None  # None: the feed itself is a 404 to this viewer


def shown(post: dict[str, Any]) -> Shown:
    poll = post["poll"]
    votes = {o["id"]: o["votes"] for o in poll["options"]} if poll else {}
    return Shown(post["comment_count"], post["reactions"], votes)


def browser(viewer: User) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


def feed_state(viewer: User, **query: Any) -> Callable[[], State]:
    """The viewer's feed as GET /api/v1/posts gives it."""
    client = browser(viewer)

    def fetch() -> State:
        response = client.get(f"{API}/posts", {"page_size": 100, **query})
        if response.status_code in (401, 404):
            return None
        assert response.status_code == 200, response.content
        return {p["id"]: shown(p) for p in response.json()["results"]}

    return fetch


def client_of(
    viewer: User, community: Community | None
) -> Callable[[State, dict[str, Any]], State]:
    """What a client does with a post event: it fetches a new or changed post through the
    API (a 404 there means an event it should never have had), takes the counts the
    events carry, drops a deleted post."""
    client = browser(viewer)

    def apply(state: State, event: dict[str, Any]) -> State:
        kind, data = event["type"], event["data"]
        assert kind in EVENT_DATA, event
        assert set(data) <= EVENT_DATA[kind], event
        assert data["community"] == (community.pk if community else None), event
        assert state is not None, f"{event} reached {viewer} who does not see this feed"
        post = data["post"]
        if kind in ("post.created", "post.updated"):
            response = client.get(f"{API}/posts/{post}")
            assert response.status_code == 200, f"{event} about a post {viewer} may not read"
            return {**state, post: shown(response.json())}
        if kind == "post.mentioned":
            return state
        assert post in state, f"{event} about a post {viewer} does not show"
        new = dict(state)
        if kind == "post.deleted":
            del new[post]
        elif kind in ("comment.created", "comment.deleted"):
            new[post] = replace(state[post], comments=data["comments"])
        elif kind == "reaction.changed" and data["comment"] is None:
            new[post] = replace(state[post], reactions=data["reactions"])
        elif kind == "poll.voted":
            votes = {int(k): v for k, v in data["votes"].items()}
            new[post] = replace(state[post], votes=votes)
        return new

    return apply


def head(viewer: User) -> int:
    return events.after(viewer, AHEAD).last_event_id


def received(viewer: User, since: int) -> list[str]:
    """The post events ``viewer`` receives (their own notifications' aside)."""
    found: list[str] = []
    while True:
        batch = events.after(viewer, since)
        assert not batch.resync
        if not batch.events:
            return found
        found += [e.type for e in batch.events if e.type not in NOTIFICATION_EVENTS]
        since = batch.last_event_id


# --- A community's posts -------------------------------------------------------------------

VIEWERS = ("member", "outsider", "external", "former member")
CASES = [
    pytest.param(visibility, viewer, id=f"{visibility}-{viewer.replace(' ', '_')}")
    for visibility in (PUBLIC, PRIVATE, SECRET, EXTERNAL)
    for viewer in VIEWERS
]


@pytest.mark.parametrize(("visibility", "viewer_name"), CASES)
def test_a_community_posts_events_keep_its_readers_right_and_reach_no_one_else(
    personas: Personas, visibility: Visibility, viewer_name: str
) -> None:
    community = build(personas, visibility)
    former = viewer_name == "former member"
    if former:
        community_services.member_remove(
            actor=personas.owner, origin=CLI, community=community, person=personas.member
        )
    viewer = personas.member if former else getattr(personas, viewer_name)
    readers = set(READERS[visibility])
    if former and visibility in (PRIVATE, SECRET):
        readers.discard("member")
    reads = ("member" if former else viewer_name) in readers
    since = {name: head(person) for name, person in personas.items()}
    fetch = feed_state(viewer, scope="community", community=community.pk)
    apply = client_of(viewer, community)
    animator, owner, hr = personas.animator, personas.owner, personas.hr
    made: dict[str, Any] = {}

    def create() -> None:
        made["post"] = services.post_create(
            actor=animator, community=community, body="Lunch?", poll={"options": ["a", "b"]}
        )

    def comment() -> None:
        made["comment"] = services.comment_create(actor=owner, post=made["post"], body="Hi")

    def reply() -> None:
        made["reply"] = services.comment_create(
            actor=owner, post=made["post"], body="Again", parent=made["comment"]
        )

    def refused_reply() -> None:
        other = Post.objects.create(author=owner, community=community, body="x", html="x")
        with pytest.raises(ServiceError):
            services.comment_create(
                actor=owner, post=other, body="wrong thread", parent=made["comment"]
            )
        other.delete()

    def option() -> int:
        return int(made["post"].poll.options.first().pk)

    steps: list[tuple[Callable[[], object], list[str]]] = [
        (create, ["post.created"]),
        (comment, ["comment.created"]),
        (reply, ["comment.created"]),
        (refused_reply, []),
        (lambda: services.react(actor=hr, post=made["post"], kind="like"), ["reaction.changed"]),
        (
            lambda: services.react(actor=owner, post=made["post"], kind="thanks"),
            ["reaction.changed"],
        ),
        (lambda: services.react(actor=hr, post=made["post"], kind=None), ["reaction.changed"]),
        (
            lambda: services.react(
                actor=hr, post=made["post"], comment=made["comment"], kind="curious"
            ),
            ["reaction.changed"],
        ),
        (
            lambda: services.poll_vote(actor=hr, post=made["post"], options=[option()]),
            ["poll.voted"],
        ),
        (
            lambda: services.comment_delete(actor=owner, origin=CLI, comment=made["reply"]),
            ["comment.deleted"],
        ),
        (
            lambda: services.post_delete(actor=animator, origin=CLI, post=made["post"]),
            ["post.deleted"],
        ),
    ]
    everything: list[str] = []
    for action, kinds in steps:
        got = verify_action(viewer, fetch, action, apply)
        assert [e["type"] for e in got] == (kinds if reads else []), (action, got)
        everything += kinds
    # Every persona: the whole stream if they read the community, nothing otherwise.
    for name, person in personas.items():
        want = everything if name in readers else []
        assert received(person, since[name]) == want, name


def test_a_profile_post_reaches_its_authors_followers(personas: Personas) -> None:
    owner = personas.owner
    directory_services.follow(actor=personas.member, person=owner)
    since = {name: head(person) for name, person in personas.items()}
    made: dict[str, Post] = {}

    def create() -> None:
        made["post"] = services.post_create(actor=owner, community=None, body="My news")

    got: dict[str, list[str]] = {}
    for name in ("member", "outsider", "external", "owner"):
        viewer = getattr(personas, name)
        found = verify_action(viewer, feed_state(viewer), create, client_of(viewer, None))
        got[name] = [e["type"] for e in found]
        Post.objects.filter(pk=made["post"].pk).delete()
    # The follower's and the author's home feeds hold it; the others' do not.
    assert got == {
        "member": ["post.created"],
        "outsider": [],
        "external": [],
        "owner": ["post.created"],
    }
    reached = {name for name, person in personas.items() if received(person, since[name])}
    assert reached == {"member", "owner"}


def test_a_profile_posts_comments_reach_the_employees_who_read_it(personas: Personas) -> None:
    post = services.post_create(actor=personas.owner, community=None, body="My news")
    for name in ("outsider", "external"):
        viewer = getattr(personas, name)
        fetch = feed_state(viewer, scope="profile", person=personas.owner.pk)
        got = verify_action(
            viewer,
            fetch,
            lambda: services.comment_create(actor=personas.hr, post=post, body="Nice"),
            client_of(viewer, None),
        )
        assert [e["type"] for e in got] == (["comment.created"] if name == "outsider" else [])


def _mention(*people: User) -> str:
    return " ".join(f"@**{p.display_name}|{p.pk}**" for p in people)


def mentioned_in(viewer: User) -> Callable[[], frozenset[int]]:
    """The posts the viewer is told they are named in and may read."""

    def fetch() -> frozenset[int]:
        readable = selectors.posts(viewer)
        found = Mention.objects.filter(user=viewer, post__in=readable).values_list("post_id")
        return frozenset(pk for (pk,) in found)

    return fetch


def told(viewer: User) -> Callable[[frozenset[int], dict[str, Any]], frozenset[int]]:
    client = browser(viewer)

    def apply(state: frozenset[int], event: dict[str, Any]) -> frozenset[int]:
        assert set(event["data"]) <= EVENT_DATA[event["type"]], event
        if event["type"] != "post.mentioned":
            return state
        post = event["data"]["post"]
        assert client.get(f"{API}/posts/{post}").status_code == 200, event
        return state | {post}

    return apply


@pytest.mark.parametrize("where", [PRIVATE, PUBLIC, "profile"])
def test_a_mention_reaches_only_the_people_named_who_may_read_the_post(
    personas: Personas, where: str
) -> None:
    community = None if where == "profile" else build(personas, Visibility(where))
    named = [personas.member, personas.outsider, personas.external, personas.hr]
    named += [personas.compliance, personas.deactivated]
    since = {name: head(person) for name, person in personas.items()}
    made: list[Post] = []

    def create() -> None:
        made.append(
            services.post_create(
                actor=personas.animator, community=community, body=f"Look {_mention(*named)}"
            )
        )

    # Those named who read the post; the author is not told.
    readers = {
        PRIVATE: {"member", "hr"},
        PUBLIC: {"member", "outsider", "hr", "compliance"},
        "profile": {"member", "outsider", "hr", "compliance"},
    }[where]
    viewer = personas.outsider
    got = verify_action(viewer, mentioned_in(viewer), create, told(viewer))
    assert ("post.mentioned" in [e["type"] for e in got]) == ("outsider" in readers)
    for name, person in personas.items():
        types = received(person, since[name])
        assert ("post.mentioned" in types) == (name in readers), (name, types)
    # A comment's mention: the same rule.
    post = made[0]
    since = {name: head(person) for name, person in personas.items()}
    commenter = personas.owner
    body = f"{_mention(personas.member, personas.external)} and {_mention(personas.animator)}"
    got = verify_action(
        personas.animator,
        mentioned_in(personas.animator),
        lambda: services.comment_create(actor=commenter, post=post, body=body),
        told(personas.animator),
    )
    assert [e["type"] for e in got].count("post.mentioned") == 1
    for name, person in personas.items():
        types = received(person, since[name])
        assert ("post.mentioned" in types) == (name in {"member", "animator"}), (name, types)


# --- Company announcements -------------------------------------------------------------------


def _sales(personas: Personas) -> tuple[User, Any]:
    """A communications officer and a Sales unit holding the member (the owner is in the
    unit above)."""
    top = directory_services.org_unit_save(actor=personas.hr, origin=CLI, name="Top", parent=None)
    sales = directory_services.org_unit_save(
        actor=personas.hr, origin=CLI, name="Sales", parent=top
    )
    Profile.objects.filter(user=personas.member).update(org_unit=sales)
    Profile.objects.filter(user=personas.owner).update(org_unit=top)
    comms = make_user("comms")
    UserRole.objects.create(user=comms, role=GlobalRole.COMMUNICATIONS)
    return User.objects.get(pk=comms.pk), sales


def test_an_announcement_to_everyone_reaches_every_employee_and_no_customer(
    personas: Personas,
) -> None:
    comms, _sales_unit = _sales(personas)
    since = {name: head(person) for name, person in personas.items()}
    for name in ("outsider", "external"):
        viewer = getattr(personas, name)
        got = verify_action(
            viewer,
            feed_state(viewer),
            lambda: services.post_create(
                actor=comms, community=None, body="To all", kind="announcement"
            ),
            client_of(viewer, None),
        )
        assert [e["type"] for e in got] == (["post.created"] if name == "outsider" else [])
    reached = {name for name, person in personas.items() if received(person, since[name])}
    assert reached == EMPLOYEES


def test_a_unit_announcement_reaches_its_unit_only(personas: Personas) -> None:
    comms, sales = _sales(personas)
    since = {name: head(person) for name, person in personas.items()}
    made: list[Post] = []
    for name in ("member", "owner", "outsider"):
        viewer = getattr(personas, name)
        got = verify_action(
            viewer,
            feed_state(viewer),
            lambda: made.append(
                services.post_create(
                    actor=comms, community=None, body="Sales", kind="announcement", org_unit=sales
                )
            ),
            client_of(viewer, None),
        )
        assert [e["type"] for e in got] == (["post.created"] if name == "member" else [])
        got = verify_action(
            viewer,
            feed_state(viewer),
            lambda: services.react(actor=personas.member, post=made[-1], kind="like"),
            client_of(viewer, None),
        )
        assert [e["type"] for e in got] == (["reaction.changed"] if name == "member" else [])
    # The unit (with the units below), the author, the administrator.
    reached = {name for name, person in personas.items() if received(person, since[name])}
    assert reached == {"member", "admin"}
    assert access.audience(made[0]).filter(pk=comms.pk).exists()


def test_a_unit_announcements_deletion_reaches_its_unit_only(personas: Personas) -> None:
    """BUG (SECURITY.md 17): services.post_delete sends post.deleted about a company
    announcement to ``everyone``, not to its audience: every employee hears of a post
    meant for one org unit."""
    comms, sales = _sales(personas)
    post = services.post_create(
        actor=comms, community=None, body="Sales", kind="announcement", org_unit=sales
    )
    since = {name: head(person) for name, person in personas.items()}
    got = verify_action(
        personas.member,
        feed_state(personas.member),
        lambda: services.post_delete(actor=comms, origin=CLI, post=post),
        client_of(personas.member, None),
    )
    assert [e["type"] for e in got] == ["post.deleted"]
    reached = {name for name, person in personas.items() if received(person, since[name])}
    assert reached == {"member", "admin"}

"""Community events, checked with verify_action: what a member and an outsider receive
when people join, leave, are removed, change role, accept an invitation or have their
request accepted, or come and go by the community's rule, keeps what they see right; a
change that does not commit sends nothing; invitations and join requests reach the
people concerned only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from essaim.accounts.models import User, UserKind
from essaim.accounts.services import ServiceError
from essaim.communities import selectors, services
from essaim.communities.models import RUNNERS, Community, Invitation, Role, Visibility
from essaim.directory import services as directory_services
from essaim.directory.models import Site
from essaim.http import CLI
from essaim.realtime import events
from essaim.realtime.models import Event
from tests.conftest import Personas, make_user
from tests.test_communities import build
from tests.verify import AHEAD, NOTIFICATION_EVENTS, verify_action

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit publishes

PUBLIC, PRIVATE, SECRET = Visibility.PUBLIC, Visibility.PRIVATE, Visibility.SECRET
MEMBER_DATA = {"community", "slug", "user", "name", "members", "role"}


@dataclass
class Seen:
    """What a viewer sees of one community: its member count (None: the community is
    hidden from them) and the role of each member they see (the keys: the member ids)."""

    count: int | None
    roles: dict[int, str] = field(default_factory=dict)


def seen(viewer: User, community: Community) -> Callable[[], Seen]:
    """The viewer's state, through the selectors the community's pages read."""

    def fetch() -> Seen:
        found = selectors.communities(viewer).filter(pk=community.pk).first()
        if found is None:
            return Seen(None)
        count = selectors.community_view(viewer, found).member_count
        members = selectors.members(viewer, found, limit=1000)
        return Seen(count, {m.user_id: m.role for m in members})

    return fetch


def client(viewer: User, community: Community) -> Callable[[Seen, dict[str, Any]], Seen]:
    """What a client does with the community's membership events."""

    def apply(state: Seen, event: dict[str, Any]) -> Seen:
        data, kind = event["data"], event["type"]
        assert data["community"] == community.pk and data["slug"] == community.slug
        assert set(data) <= MEMBER_DATA, data  # small, and nothing private
        roles = dict(state.roles)
        if kind == "community.member_joined":
            roles[data["user"]] = data["role"]
            return Seen(data["members"], roles)
        if kind == "community.member_left":
            roles.pop(data["user"], None)
            if data["user"] == viewer.pk and community.visibility == SECRET:
                return Seen(None)  # out of a secret community: it is gone
            if data["user"] == viewer.pk and community.visibility == PRIVATE:
                roles = {pk: r for pk, r in roles.items() if r in RUNNERS}  # whom to ask
            return Seen(data["members"], roles)
        if kind == "community.role_changed":
            roles[data["user"]] = data["role"]
            return Seen(state.count, roles)
        raise AssertionError(f"unexpected event {kind}")

    return apply


def head(viewer: User) -> int:
    return events.after(viewer, AHEAD).last_event_id


def received(viewer: User, since: int) -> list[Event]:
    """The community events ``viewer`` receives (their own notifications' aside)."""
    return [e for e in events.after(viewer, since).events if e.type not in NOTIFICATION_EVENTS]


# --- The actions: each prepares the community and returns the change to verify ----------

Action = Callable[[], object]


def _site(personas: Personas, name: str) -> Site:
    return directory_services.site_save(
        actor=personas.hr, origin=CLI, name=name, city=name, country="FR"
    )


def _move(personas: Personas, person: User, site: Site) -> None:
    directory_services.profile_update(
        actor=personas.hr, person=person, origin=CLI, changes={"site": site}
    )


def join(p: Personas, c: Community) -> Action:
    return lambda: services.join(actor=p.moderator, community=c)


def leave(p: Personas, c: Community) -> Action:
    return lambda: services.leave(actor=p.hr, community=c)


def remove(p: Personas, c: Community) -> Action:
    return lambda: services.member_remove(actor=p.owner, origin=CLI, community=c, person=p.animator)


def demote(p: Personas, c: Community) -> Action:
    return lambda: services.role_set(
        actor=p.owner, origin=CLI, community=c, person=p.animator, role=Role.MEMBER
    )


def accept_invitation(p: Personas, c: Community) -> Action:
    invitation = Invitation.objects.get(community=c, user=p.compliance)
    return lambda: services.invitation_answer(
        actor=p.compliance, invitation=invitation, accept=True
    )


def accept_request(p: Personas, c: Community) -> Action:
    request = services.join_request(actor=p.moderator, community=c)
    return lambda: services.join_request_decide(
        actor=p.owner, origin=CLI, request=request, approve=True
    )


def rule_adds(p: Personas, c: Community) -> Action:
    lyon = _site(p, "Lyon")
    _move(p, p.moderator, lyon)
    return lambda: services.membership_rule_set(actor=p.owner, origin=CLI, community=c, site=lyon)


def rule_removes(p: Personas, c: Community) -> Action:
    lyon, paris = _site(p, "Lyon"), _site(p, "Paris")
    _move(p, p.moderator, lyon)
    services.membership_rule_set(actor=p.owner, origin=CLI, community=c, site=lyon)
    return lambda: _move(p, p.moderator, paris)  # sync_people


ALL = (PUBLIC, PRIVATE, SECRET)
ACTIONS: dict[str, tuple[Callable[[Personas, Community], Action], tuple[Visibility, ...], str]] = {
    "join": (join, (PUBLIC,), "community.member_joined"),
    "leave": (leave, ALL, "community.member_left"),
    "member_remove": (remove, ALL, "community.member_left"),
    "role_set": (demote, ALL, "community.role_changed"),
    "invitation_accepted": (accept_invitation, ALL, "community.member_joined"),
    "join_request_accepted": (accept_request, (PRIVATE,), "community.member_joined"),
    "rule_adds": (rule_adds, ALL, "community.member_joined"),
    "rule_removes": (rule_removes, ALL, "community.member_left"),
}
CASES = [
    pytest.param(name, visibility, viewer, id=f"{name}-{visibility}-{viewer}")
    for name, (_setup, visibilities, _type) in ACTIONS.items()
    for visibility in visibilities
    for viewer in ("member", "outsider")
    # A private community's outsider: see the last two tests.
    if (visibility, viewer) != (PRIVATE, "outsider")
]


@pytest.mark.parametrize(("name", "visibility", "viewer_name"), CASES)
def test_the_events_a_viewer_receives_keep_what_they_see_right(
    personas: Personas, name: str, visibility: Visibility, viewer_name: str
) -> None:
    setup, _visibilities, kind = ACTIONS[name]
    community = build(personas, visibility)
    viewer = getattr(personas, viewer_name)
    action = setup(personas, community)
    got = verify_action(viewer, seen(viewer, community), action, client(viewer, community))
    reads = visibility == PUBLIC or viewer_name == "member"
    assert [e["type"] for e in got] == ([kind] if reads else [])


@pytest.mark.parametrize("visibility", ALL)
def test_whoever_leaves_is_told_even_once_they_no_longer_read_it(
    personas: Personas, visibility: Visibility
) -> None:
    community = build(personas, visibility)
    member = personas.member
    got = verify_action(
        member,
        seen(member, community),
        lambda: services.leave(actor=member, community=community),
        client(member, community),
    )
    data = {"community": community.pk, "slug": community.slug, "user": member.pk}
    # Once: by the community's event (public) or on their own (private, secret).
    assert got == [
        {
            "id": got[0]["id"],
            "type": "community.member_left",
            "data": {**data, "name": "Member", "members": 3},  # owner, animator, reader
        }
    ]


def test_nothing_is_sent_for_a_change_that_does_not_commit(personas: Personas) -> None:
    community = build(personas, PUBLIC)
    member, owner = personas.member, personas.owner

    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.join(actor=personas.moderator, community=community)
            raise RuntimeError

    def last_owner_leaves() -> None:
        with pytest.raises(ServiceError):
            services.leave(actor=owner, community=community)

    def last_owner_demoted() -> None:
        with pytest.raises(ServiceError):
            services.role_set(
                actor=owner, origin=CLI, community=community, person=owner, role=Role.MEMBER
            )

    for action in (rolled_back, last_owner_leaves, last_owner_demoted):
        got = verify_action(member, seen(member, community), action, client(member, community))
        assert got == [], action.__name__
    assert not Event.objects.exists()


def test_an_invitation_reaches_the_invited_only(personas: Personas) -> None:
    community = build(personas, SECRET)
    since = {name: head(person) for name, person in personas.items()}
    invited = [personas.outsider, personas.moderator]

    def invite() -> None:
        services.invite(
            actor=personas.owner, origin=CLI, community=community, people=invited, role=Role.READER
        )

    invite()
    invite()  # already invited: nothing new
    for name, person in personas.items():
        want = ["community.invited"] if person in invited else []
        assert [e.type for e in received(person, since[name])] == want, name
    (event,) = received(personas.outsider, since["outsider"])
    assert event.data == {
        "community": community.pk,
        "slug": community.slug,
        "name": community.name,
        "role": Role.READER,
    }


def test_a_join_request_reaches_the_owners_and_animators_only(personas: Personas) -> None:
    community = build(personas, PRIVATE)
    since = {name: head(person) for name, person in personas.items()}
    asking = personas.moderator
    services.join_request(actor=asking, community=community, message="Please")
    services.join_request(actor=asking, community=community)  # asked already: nothing new
    for name, person in personas.items():
        want = ["community.join_requested"] if name in ("owner", "animator") else []
        assert [e.type for e in received(person, since[name])] == want, name
    (event,) = received(personas.owner, since["owner"])
    assert event.data == {
        "community": community.pk,
        "slug": community.slug,
        "user": asking.pk,
        "name": "Moderator",
    }


@pytest.mark.parametrize("viewer_name", ["member", "outsider"])
def test_settings_and_archiving_reach_the_readers(personas: Personas, viewer_name: str) -> None:
    community = build(personas, SECRET)
    viewer, owner = getattr(personas, viewer_name), personas.owner

    def fetch() -> tuple[str, bool] | None:
        found = selectors.communities(viewer).filter(pk=community.pk).first()
        return None if found is None else (found.name, found.archived)

    def apply(state: tuple[str, bool] | None, event: dict[str, Any]) -> tuple[str, bool]:
        assert event["type"] == "community.updated"
        data = event["data"]
        assert data == {**data, "community": community.pk, "slug": community.slug}
        return (data["name"], data["archived"])

    changes = {"name": "Orion"}
    for action in (
        lambda: services.community_update(
            actor=owner, origin=CLI, community=community, changes=changes
        ),
        lambda: services.community_archive(actor=owner, origin=CLI, community=community),
        lambda: services.community_archive(
            actor=owner, origin=CLI, community=community, archived=False
        ),
    ):
        got = verify_action(viewer, fetch, action, apply)
        assert len(got) == (1 if viewer_name == "member" else 0)


def test_an_outsider_of_a_private_community_hears_nothing_of_who_is_in(
    personas: Personas,
) -> None:
    community = build(personas, PRIVATE)
    outsider, member = personas.outsider, personas.member
    since = {"outsider": head(outsider), "member": head(member)}
    for setup in (accept_request, accept_invitation, demote, remove, leave):
        setup(personas, community)()
    assert received(outsider, since["outsider"]) == []
    assert len(received(member, since["member"])) == 5


def test_an_external_community_speaks_to_its_customers_and_no_other(
    personas: Personas,
) -> None:
    community = build(personas, Visibility.EXTERNAL)
    stranger = make_user("Other Customer", kind=UserKind.EXTERNAL)  # not in this one
    employee = make_user("New Colleague")
    customer = personas.external

    def join() -> None:
        services.join(actor=employee, community=community)

    def leave() -> None:
        services.leave(actor=employee, community=community)

    got = verify_action(customer, seen(customer, community), join, client(customer, community))
    assert [e["type"] for e in got] == ["community.member_joined"]
    assert (
        verify_action(stranger, seen(stranger, community), leave, client(stranger, community)) == []
    )

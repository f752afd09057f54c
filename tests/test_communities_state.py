"""A Hypothesis state machine over communities: it creates communities, changes their
visibility, archives and restores them, invites, answers invitations, joins, asks to
join, approves, changes roles, removes, leaves, deactivates and reactivates people —
through the services, as the app does — and after every step checks that each person
sees, reads and may do exactly what tests/communities_model.py allows, in the three
forms of access.py, and in search: the index never answers with a community one may not
view (not even before the indexer has run), and once it has run, it finds exactly those
one views. It runs at least MIN_STEPS steps on every run; the seed is printed
(ESSAIM_STATE_SEED=<seed> replays a run)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from essaim import access
from essaim.accounts import services as account_services
from essaim.accounts.models import User, UserKind
from essaim.accounts.services import ServiceError
from essaim.communities import services
from essaim.communities.models import Community, Invitation, JoinRequest, Role, Visibility
from essaim.http import CLI
from essaim.search.engine import Filters, Request, engine
from essaim.search.indexer import index_pending
from essaim.search.query import parse
from tests import communities_model as model
from tests.conftest import make_user
from tests.machines import run_machine

MIN_STEPS = 2000
PEOPLE = ("ann", "bob", "cid", "eve", "ada")  # eve: an external customer; ada: an administrator
VISIBILITIES = [v.value for v in Visibility]
ROLES = [r.value for r in Role]


@dataclass
class Place:
    """What the model knows of one community."""

    visibility: str
    archived: bool = False
    roles: dict[str, str] = field(default_factory=dict)  # person → role
    invited: dict[str, tuple[str, str]] = field(default_factory=dict)  # person → role, by
    requests: set[str] = field(default_factory=set)

    def another_owner(self, person: str, active: set[str]) -> bool:
        return any(r == Role.OWNER and p in active and p != person for p, r in self.roles.items())


class Communities(RuleBasedStateMachine):
    steps = 0

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.users: dict[str, User] = {}
        for name in PEOPLE:
            kind = UserKind.EXTERNAL if name == "eve" else UserKind.EMPLOYEE
            self.users[name] = make_user(name, kind=kind, is_admin=name == "ada")
        self.active = set(PEOPLE)
        self.places: dict[int, Place] = {}
        self.focus: int | None = None
        engine().clear()  # the embedded index is files: what earlier runs rolled back stays

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------

    def user(self, name: str) -> User:
        return User.objects.get(pk=self.users[name].pk)  # fresh: as each request loads it

    def viewer(self, name: str, place: Place) -> model.Viewer:
        return model.Viewer(
            active=name in self.active,
            employee=name != "eve",
            admin=name == "ada",
            role=place.roles.get(name),
            invited=self.live(place, name),
        )

    def live(self, place: Place, person: str) -> bool:
        """An invitation dies with its inviter's account."""
        return person in place.invited and place.invited[person][1] in self.active

    def sees_person(self, viewer: str, person: str) -> bool:
        """Employees and administrators see everyone; eve, the members of the external
        communities she is in."""
        if viewer != "eve" or person == "eve":
            return True
        return any(
            p.visibility == "external" and "eve" in p.roles and person in p.roles
            for p in self.places.values()
        )

    def may(self, name: str, pk: int, action: str) -> bool:
        place = self.places[pk]
        return model.allowed(self.viewer(name, place), place.visibility, place.archived, action)

    def attempt(self, expected: bool, call: object) -> bool:
        """Run a service call; it must succeed exactly when the model expects it."""
        try:
            call()  # type: ignore[operator]
        except (access.Forbidden, ServiceError):
            assert not expected, "refused, but the model allows it"
            return False
        assert expected, "done, but the model refuses it"
        return True

    def community(self, pk: int) -> Community:
        return Community.objects.get(pk=pk)

    person = st.sampled_from(PEOPLE)

    def pick(self, data: st.DataObject) -> int:
        return data.draw(st.sampled_from(sorted(self.places)), label="community")

    # --- rules ---------------------------------------------------------------------------

    @rule(person=person, visibility=st.sampled_from(VISIBILITIES))
    def create(self, person: str, visibility: str) -> None:
        allowed = person in self.active and person != "eve"
        created: list[Community] = []
        name = f"Cercle {len(self.places)}"  # "cercle" finds every community
        done = self.attempt(
            allowed,
            lambda: created.append(
                services.community_create(
                    actor=self.user(person), origin=CLI, name=name, visibility=visibility
                )
            ),
        )
        if done:
            self.places[created[0].pk] = Place(visibility, roles={person: Role.OWNER})
            self.focus = created[0].pk

    @precondition(lambda self: self.places)
    @rule(data=st.data(), person=person, visibility=st.sampled_from(VISIBILITIES))
    def change_visibility(self, data: st.DataObject, person: str, visibility: str) -> None:
        pk = self.focus = self.pick(data)
        place = self.places[pk]
        customers = "eve" in place.roles or "eve" in place.invited
        allowed = self.may(person, pk, "configure") and (visibility == "external" or not customers)
        call = lambda: services.community_update(  # noqa: E731
            actor=self.user(person),
            origin=CLI,
            community=self.community(pk),
            changes={"visibility": visibility},
        )
        if self.attempt(allowed, call):
            place.visibility = visibility

    @precondition(lambda self: self.places)
    @rule(data=st.data(), person=person, archived=st.booleans())
    def archive(self, data: st.DataObject, person: str, archived: bool) -> None:
        pk = self.focus = self.pick(data)
        call = lambda: services.community_archive(  # noqa: E731
            actor=self.user(person), origin=CLI, community=self.community(pk), archived=archived
        )
        if self.attempt(self.may(person, pk, "configure"), call):
            self.places[pk].archived = archived

    @precondition(lambda self: self.places)
    @rule(data=st.data(), actor=person, person=person, role=st.sampled_from(ROLES))
    def invite(self, data: st.DataObject, actor: str, person: str, role: str) -> None:
        pk = self.focus = self.pick(data)
        place = self.places[pk]
        allowed = (
            self.may(actor, pk, "manage")
            and (role not in ("owner", "animator") or self.may(actor, pk, "configure"))
            and person in self.active
            and (person != "eve" or place.visibility == "external")
            and self.sees_person(actor, person)
        )
        call = lambda: services.invite(  # noqa: E731
            actor=self.user(actor),
            origin=CLI,
            community=self.community(pk),
            people=[self.user(person)],
            role=role,
        )
        done = self.attempt(allowed, call)
        if done and person not in place.roles and not self.live(place, person):
            place.invited[person] = (role, actor)  # a live one stays; a dead one is renewed

    @precondition(lambda self: any(p.invited for p in self.places.values()))
    @rule(data=st.data(), accept=st.booleans())
    def answer(self, data: st.DataObject, accept: bool) -> None:
        pk = self.focus = data.draw(
            st.sampled_from(sorted(k for k, p in self.places.items() if p.invited))
        )
        place = self.places[pk]
        person = data.draw(st.sampled_from(sorted(place.invited)))
        invitation = Invitation.objects.get(community_id=pk, user=self.users[person])
        allowed = (
            person in self.active and self.live(place, person) and not (accept and place.archived)
        )
        call = lambda: services.invitation_answer(  # noqa: E731
            actor=self.user(person), invitation=invitation, accept=accept
        )
        if self.attempt(allowed, call):
            role, _by = place.invited.pop(person)
            place.requests.discard(person)
            if accept:
                place.roles.setdefault(person, role)

    @precondition(lambda self: self.places)
    @rule(data=st.data(), person=person)
    def join(self, data: st.DataObject, person: str) -> None:
        pk = self.focus = self.pick(data)
        call = lambda: services.join(actor=self.user(person), community=self.community(pk))  # noqa: E731
        if self.attempt(self.may(person, pk, "join"), call):
            place = self.places[pk]
            place.roles[person] = Role.MEMBER
            place.invited.pop(person, None)
            place.requests.discard(person)

    @precondition(lambda self: self.places)
    @rule(data=st.data(), person=person)
    def ask(self, data: st.DataObject, person: str) -> None:
        pk = self.focus = self.pick(data)
        call = lambda: services.join_request(actor=self.user(person), community=self.community(pk))  # noqa: E731
        if self.attempt(self.may(person, pk, "request"), call):
            self.places[pk].requests.add(person)

    @precondition(lambda self: any(p.requests for p in self.places.values()))
    @rule(data=st.data(), actor=person, approve=st.booleans())
    def decide(self, data: st.DataObject, actor: str, approve: bool) -> None:
        pk = self.focus = data.draw(
            st.sampled_from(sorted(k for k, p in self.places.items() if p.requests))
        )
        place = self.places[pk]
        person = data.draw(st.sampled_from(sorted(place.requests)))
        request = JoinRequest.objects.get(community_id=pk, user=self.users[person])
        call = lambda: services.join_request_decide(  # noqa: E731
            actor=self.user(actor), origin=CLI, request=request, approve=approve
        )
        if self.attempt(self.may(actor, pk, "manage"), call):
            place.requests.discard(person)
            if approve and person in self.active:
                place.roles.setdefault(person, Role.MEMBER)

    @precondition(lambda self: any(p.roles for p in self.places.values()))
    @rule(data=st.data(), actor=person, role=st.sampled_from(ROLES))
    def set_role(self, data: st.DataObject, actor: str, role: str) -> None:
        pk = self.focus = self.pick(data)
        place = self.places[pk]
        if not place.roles:
            return
        person = data.draw(st.sampled_from(sorted(place.roles)))
        current = place.roles[person]
        owner_rights = self.may(actor, pk, "configure")
        allowed = (
            self.may(actor, pk, "manage")
            and (role not in ("owner", "animator") or owner_rights)
            and (current not in ("owner", "animator") or owner_rights)
            and not (
                current == "owner"
                and role != "owner"
                and not place.another_owner(person, self.active)
            )
        )
        call = lambda: services.role_set(  # noqa: E731
            actor=self.user(actor),
            origin=CLI,
            community=self.community(pk),
            person=self.user(person),
            role=role,
        )
        if self.attempt(allowed, call):
            place.roles[person] = role

    @precondition(lambda self: any(p.roles for p in self.places.values()))
    @rule(data=st.data(), actor=person)
    def remove(self, data: st.DataObject, actor: str) -> None:
        pk = self.focus = self.pick(data)
        place = self.places[pk]
        if not place.roles:
            return
        person = data.draw(st.sampled_from(sorted(place.roles)))
        current = place.roles[person]
        allowed = (
            self.may(actor, pk, "manage")
            and (current not in ("owner", "animator") or self.may(actor, pk, "configure"))
            and not (current == "owner" and not place.another_owner(person, self.active))
        )
        call = lambda: services.member_remove(  # noqa: E731
            actor=self.user(actor),
            origin=CLI,
            community=self.community(pk),
            person=self.user(person),
        )
        if self.attempt(allowed, call):
            del place.roles[person]

    @precondition(lambda self: any(p.roles for p in self.places.values()))
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        pk = self.focus = self.pick(data)
        place = self.places[pk]
        if not place.roles:
            return
        person = data.draw(st.sampled_from(sorted(place.roles)))
        last = place.roles[person] == "owner" and not place.another_owner(person, self.active)
        call = lambda: services.leave(actor=self.user(person), community=self.community(pk))  # noqa: E731
        if self.attempt(person in self.active and not last, call):
            del place.roles[person]

    @rule(person=st.sampled_from(("ann", "bob", "cid", "eve")), active=st.booleans())
    def activity(self, person: str, active: bool) -> None:
        user, admin = self.user(person), self.user("ada")
        if active:
            account_services.user_reactivate(actor=admin, origin=CLI, user=user)
            self.active.add(person)
        else:
            account_services.user_deactivate(actor=admin, origin=CLI, user=user)
            self.active.discard(person)

    # --- the check -----------------------------------------------------------------------

    def found(self, user: User) -> set[int]:
        """The communities the index answers ``user`` for "cercle", before any reading
        again through the policy."""
        keys = access.search_keys(user, kinds=["community"])
        request = Request(parse("cercle"), keys, Filters(kinds=["community"]), limit=100)
        result = engine().search(request)
        assert result.total == len(result.hits)
        return {hit.pk for hit in result.hits}

    @invariant()
    def everyone_sees_what_the_model_allows(self) -> None:
        Communities.steps += 1
        waiting = [self.found(self.user(name)) for name in PEOPLE]
        index_pending()
        for name, before in zip(PEOPLE, waiting, strict=True):
            user = self.user(name)
            seen = set(access.visible(user, Community.objects.all()).values_list("pk", flat=True))
            assert seen == {pk for pk in self.places if self.may(name, pk, "view")}, name
            assert before <= seen, (name, "search, before indexing")
            assert self.found(user) == seen, (name, "search")
            read = set(
                Community.objects.filter(access.readable_communities(user)).values_list(
                    "pk", flat=True
                )
            )
            assert read == {pk for pk in self.places if self.may(name, pk, "read")}, name
        if self.focus is None:
            return
        community = self.community(self.focus)
        audience = set(access.audience(community).values_list("pk", flat=True))
        for name in PEOPLE:
            user = self.user(name)
            for action in model.ACTIONS:
                assert access.can(user, action, community) == self.may(name, self.focus, action), (
                    name,
                    action,
                )
            assert (user.pk in audience) == self.may(name, self.focus, "view"), name


@pytest.mark.django_db
def test_communities_state_machine() -> None:
    Communities.steps = 0
    run_machine(
        Communities, replay="ESSAIM_STATE_SEED", enough=lambda: Communities.steps >= MIN_STEPS,
        examples=30, steps=40,
    )  # fmt: skip
    print(f"communities state machine: {Communities.steps} steps checked")

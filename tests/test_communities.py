"""Communities: the access rules for every persona, visibility and role in their three
forms, against a pure-Python model, and the services' refusals of bad input."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from email.header import decode_header, make_header
from functools import partial

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError, user_deactivate
from essaim.communities import selectors as community_selectors
from essaim.communities import services
from essaim.communities.models import Community, Invitation, Membership, Role, Visibility
from essaim.directory import selectors as directory_selectors
from essaim.directory import services as directory_services
from essaim.http import CLI
from essaim.settings import email_settings
from essaim.worker import TaskWorker, schedule_daily_tasks
from tests import communities_model as model
from tests.conftest import Personas, make_user

# Who holds which place in every community of the fixture.
ROLES = {"owner": Role.OWNER, "animator": Role.ANIMATOR, "member": Role.MEMBER, "hr": Role.READER}
INVITED = "compliance"


def build(personas: Personas, visibility: Visibility, *, archived: bool = False) -> Community:
    """A community with an owner, an animator, a member, a reader and an invitee; the
    external customer is a member of the external one."""
    owner = personas.owner
    community = services.community_create(
        actor=owner,
        origin=CLI,
        name=f"{visibility} {'archived' if archived else 'live'}",
        visibility=visibility,
    )
    for name, role in ROLES.items():
        if role != Role.OWNER:
            Membership.objects.create(community=community, user=getattr(personas, name), role=role)
    if visibility == Visibility.EXTERNAL:
        Membership.objects.create(community=community, user=personas.external, role=Role.MEMBER)
    Invitation.objects.create(
        community=community, user=getattr(personas, INVITED), invited_by=owner
    )
    if archived:
        services.community_archive(actor=owner, origin=CLI, community=community)
    return community


@pytest.fixture
def communities(personas: Personas) -> list[Community]:
    return [build(personas, v, archived=a) for v in Visibility for a in (False, True)]


def viewer_of(user: User, community: Community) -> model.Viewer:
    role = community.memberships.filter(user=user).values_list("role", flat=True).first()
    return model.Viewer(
        active=user.is_active,
        employee=user.kind == "employee",
        admin=user.is_admin,
        role=role,
        invited=community.invitations.filter(user=user).exists(),
    )


def test_every_persona_and_action_agrees_with_the_model_in_the_three_forms(
    personas: Personas, communities: list[Community]
) -> None:
    checked = 0
    for community in communities:
        watchers = set(access.audience(community).values_list("pk", flat=True))
        for name, user in personas.items():
            viewer = viewer_of(user, community)
            for action in model.ACTIONS:
                want = model.allowed(viewer, community.visibility, community.archived, action)
                got = access.can(user, action, community)
                assert got == want, (name, community.name, action, got)
                checked += 1
            listed = access.visible(user, Community.objects.filter(pk=community.pk)).exists()
            assert listed == access.can(user, "view", community) == (user.pk in watchers), (
                name,
                community.name,
            )
            for membership in community.memberships.all():
                want = model.sees_membership(
                    viewer,
                    community.visibility,
                    community.archived,
                    membership.role,
                    membership.user_id == user.pk,
                )
                one = Membership.objects.filter(pk=membership.pk)
                assert access.can(user, "view", membership) == want, (name, membership)
                assert access.visible(user, one).exists() == want
                audience = access.audience(membership).filter(pk=user.pk).exists()
                assert audience == want, (name, membership)
    assert checked == len(communities) * len(personas.all()) * len(model.ACTIONS)
    assert not access.can(AnonymousUser(), "view", communities[0])


def test_a_secret_community_is_not_found_like_a_missing_one(
    personas: Personas, communities: list[Community]
) -> None:
    secret = next(c for c in communities if c.visibility == Visibility.SECRET)
    for lookup in (
        lambda: access.access_community(personas.outsider, secret.pk),
        lambda: access.access_community_by_slug(personas.outsider, secret.slug),
        lambda: access.access_community(personas.outsider, 999_999),
        lambda: access.access_community_by_slug(personas.outsider, "nothing-here"),
    ):
        with pytest.raises(access.NotFound):
            lookup()
    assert access.access_community_by_slug(personas.compliance, secret.slug) == secret  # invited


def test_an_external_customer_sees_only_their_external_community_and_its_people(
    personas: Personas, communities: list[Community]
) -> None:
    external = personas.external
    seen = access.visible(external, Community.objects.all())
    assert {c.visibility for c in seen} == {Visibility.EXTERNAL}
    # The people of that community, and nobody else.
    people = set(directory_selectors.people(external))
    assert personas.owner in people and personas.external in people
    assert personas.outsider not in people
    assert access.can(external, "view", personas.member)
    assert not access.can(external, "view", personas.outsider)
    assert external in access.audience(personas.member)
    assert external not in access.audience(personas.outsider)


def test_roles_change_at_once_for_later_requests(
    personas: Personas, communities: list[Community]
) -> None:
    private = next(c for c in communities if c.visibility == Visibility.PRIVATE and not c.archived)
    assert access.can(personas.member, "read", private)
    services.member_remove(
        actor=personas.owner, origin=CLI, community=private, person=personas.member
    )
    assert not access.can(personas.member, "read", private)
    secret = next(c for c in communities if c.visibility == Visibility.SECRET and not c.archived)
    services.member_remove(
        actor=personas.owner, origin=CLI, community=secret, person=personas.member
    )
    assert not access.visible(personas.member, Community.objects.filter(pk=secret.pk)).exists()
    user_deactivate(actor=personas.admin, origin=CLI, user=personas.animator)
    assert not access.can(User.objects.get(pk=personas.animator.pk), "view", private)
    listed = community_selectors.members(personas.owner, private)
    assert personas.animator.pk not in {m.user_id for m in listed}  # nor listed as a member


# --- Services ----------------------------------------------------------------------------


def test_a_duplicate_address_is_refused_the_same_way_for_a_secret_community(
    personas: Personas,
) -> None:
    services.community_create(
        actor=personas.owner, origin=CLI, name="Legal", visibility=Visibility.SECRET
    )
    with pytest.raises(ServiceError) as refused:
        services.community_create(
            actor=personas.member, origin=CLI, name="Legal!", visibility=Visibility.PUBLIC
        )
    assert refused.value.field == "slug" and "not available" in refused.value.message
    assert Community.objects.count() == 1


def test_bad_settings_are_refused_and_change_nothing(personas: Personas) -> None:
    owner = personas.owner
    for bad in (
        {"name": "   "},
        {"name": "x" * 101},
        {"kind": "guild"},
        {"tags": ["a" * 41]},
        {"tags": "python"},
        {"confidential": True},  # public
        {"end_date": timezone.localdate() - datetime.timedelta(days=1)},
    ):
        with pytest.raises(ServiceError):
            services.community_create(
                actor=owner,
                origin=CLI,
                visibility=Visibility.PUBLIC,
                **{"name": "Ok", **bad},  # type: ignore[arg-type]
            )
    with pytest.raises(access.Forbidden):
        services.community_create(
            actor=personas.external, origin=CLI, name="Mine", visibility=Visibility.EXTERNAL
        )
    assert not Community.objects.exists()


def test_invitations_refuse_deactivated_people_and_customers_in_internal_communities(
    personas: Personas,
) -> None:
    owner = personas.owner
    private = services.community_create(
        actor=owner, origin=CLI, name="Finance", visibility=Visibility.PRIVATE
    )
    for person in (personas.deactivated, personas.external):
        with pytest.raises(ServiceError):
            services.invite(actor=owner, origin=CLI, community=private, people=[person])
    assert not Invitation.objects.exists()
    external = services.community_create(
        actor=owner, origin=CLI, name="Customers", visibility=Visibility.EXTERNAL
    )
    services.invite(actor=owner, origin=CLI, community=external, people=[personas.external])
    with pytest.raises(ServiceError):  # a customer is inside: it stays external
        services.community_update(
            actor=owner, origin=CLI, community=external, changes={"visibility": "private"}
        )
    assert Community.objects.get(pk=external.pk).visibility == Visibility.EXTERNAL


def test_the_last_owner_cannot_leave_and_a_non_owner_cannot_escalate(personas: Personas) -> None:
    owner, animator, member = personas.owner, personas.animator, personas.member
    community = services.community_create(
        actor=owner, origin=CLI, name="Project X", visibility=Visibility.PRIVATE
    )
    with pytest.raises(ServiceError):
        services.leave(actor=owner, community=community)
    Membership.objects.create(community=community, user=animator, role=Role.ANIMATOR)
    Membership.objects.create(community=community, user=member, role=Role.MEMBER)
    for role in (Role.OWNER, Role.ANIMATOR):
        with pytest.raises(ServiceError):
            services.role_set(
                actor=animator, origin=CLI, community=community, person=member, role=role
            )
    with pytest.raises(ServiceError):
        services.member_remove(actor=animator, origin=CLI, community=community, person=owner)
    with pytest.raises(access.Forbidden):
        services.role_set(
            actor=member, origin=CLI, community=community, person=member, role=Role.OWNER
        )
    assert dict(community.memberships.values_list("user__email", "role")) == {
        owner.email: Role.OWNER,
        animator.email: Role.ANIMATOR,
        member.email: Role.MEMBER,
    }
    # An animator manages members and readers; an owner hands over and may then leave.
    services.role_set(
        actor=animator, origin=CLI, community=community, person=member, role=Role.READER
    )
    services.role_set(
        actor=owner, origin=CLI, community=community, person=animator, role=Role.OWNER
    )
    services.leave(actor=owner, community=community)
    assert not community.memberships.filter(user=owner).exists()


def test_join_request_invite_and_archive(personas: Personas) -> None:
    owner, outsider, member = personas.owner, personas.outsider, personas.member
    private = services.community_create(
        actor=owner, origin=CLI, name="Design", visibility=Visibility.PRIVATE
    )
    request = services.join_request(actor=outsider, community=private, message="Hello")
    assert not access.can(outsider, "read", private)
    services.join_request_decide(actor=owner, origin=CLI, request=request, approve=True)
    assert access.can(outsider, "post", private)
    [invitation] = services.invite(actor=owner, origin=CLI, community=private, people=[member])
    services.invitation_answer(actor=member, invitation=invitation, accept=True)
    assert access.community_role(member, private) == Role.MEMBER
    services.community_archive(actor=owner, origin=CLI, community=private)
    assert access.can(member, "read", private) and not access.can(member, "post", private)
    services.community_archive(actor=owner, origin=CLI, community=private, archived=False)
    assert access.can(member, "post", private)


def test_an_invitation_dies_with_its_inviter_or_after_thirty_days(personas: Personas) -> None:
    owner, animator, member = personas.owner, personas.animator, personas.member
    secret = services.community_create(
        actor=owner, origin=CLI, name="Board", visibility=Visibility.SECRET
    )
    Membership.objects.create(community=secret, user=animator, role=Role.ANIMATOR)
    [invitation] = services.invite(actor=animator, origin=CLI, community=secret, people=[member])
    assert access.can(member, "view", secret)
    user_deactivate(actor=personas.admin, origin=CLI, user=animator)
    assert not access.can(member, "view", secret)  # with its inviter, the invitation is gone
    with pytest.raises(ServiceError):
        services.invitation_answer(actor=member, invitation=invitation, accept=True)
    [renewed] = services.invite(actor=owner, origin=CLI, community=secret, people=[member])
    assert access.can(member, "view", secret)
    old = timezone.now() - datetime.timedelta(days=31)
    Invitation.objects.filter(pk=renewed.pk).update(created_at=old)
    assert not access.can(member, "view", secret)
    assert not access.visible(member, Community.objects.all()).exists()


def test_a_site_community_follows_the_directory(personas: Personas) -> None:
    hr = personas.hr
    lyon = directory_services.site_save(
        actor=hr, origin=CLI, name="Lyon", city="Lyon", country="FR"
    )
    paris = directory_services.site_save(
        actor=hr, origin=CLI, name="Paris", city="Paris", country="FR"
    )
    here = make_user("here")
    directory_services.profile_update(actor=hr, person=here, origin=CLI, changes={"site": lyon})
    community = services.community_create(
        actor=personas.owner, origin=CLI, name="Lyon site", visibility=Visibility.PRIVATE
    )
    services.membership_rule_set(actor=personas.owner, origin=CLI, community=community, site=lyon)
    assert access.community_role(here, community) == Role.MEMBER
    newcomer = make_user("newcomer")
    directory_services.profile_update(actor=hr, person=newcomer, origin=CLI, changes={"site": lyon})
    assert access.can(newcomer, "read", community)
    directory_services.profile_update(actor=hr, person=here, origin=CLI, changes={"site": paris})
    assert access.community_role(here, community) is None
    # A membership someone chose stays when they move.
    Membership.objects.create(community=community, user=personas.member)
    directory_services.profile_update(
        actor=hr, person=personas.member, origin=CLI, changes={"site": paris}
    )
    assert access.community_role(personas.member, community) == Role.MEMBER


@pytest.mark.django_db(transaction=True)
def test_the_daily_run_archives_ended_projects_and_reminds_owners_once(
    personas: Personas, smtp_server: Controller, signed_in: Callable[[User], Client]
) -> None:
    today = timezone.localdate()
    owner = personas.owner

    def project(name: str, days: int, visibility: Visibility, **settings: object) -> Community:
        return services.community_create(
            actor=owner,
            origin=CLI,
            name=name,
            visibility=visibility,
            kind="project",
            end_date=today + datetime.timedelta(days=days),
            **settings,  # type: ignore[arg-type]
        )

    ended = project("Ended", 1, Visibility.PRIVATE)
    # Time passes: yesterday was its last day (a past end date cannot be set any more).
    Community.objects.filter(pk=ended.pk).update(end_date=today - datetime.timedelta(days=1))
    soon = project("Launch", 10, Visibility.PUBLIC)
    hidden = project("Orion", 3, Visibility.SECRET, confidential=True)
    later = project("Later", 60, Visibility.PUBLIC)
    schedule_daily_tasks()
    schedule_daily_tasks()  # a second worker start queues no second run
    lifecycle = DBTaskResult.objects.filter(status="READY", task_path__endswith="lifecycle")
    (daily,) = lifecycle
    assert daily.run_after > timezone.now()
    DBTaskResult.objects.filter(pk=daily.pk).update(run_after=timezone.now())
    with override_settings(**email_settings(f"smtp://127.0.0.1:{smtp_server.port}")):
        TaskWorker(batch=True, interval=0).run()
        TaskWorker(batch=True, interval=0).run()  # the next run is for tomorrow
    assert Community.objects.get(pk=ended.pk).archived
    assert not Community.objects.get(pk=soon.pk).archived
    # Restored as it is, it would be archived again tonight: its end date must move first.
    restore = partial(services.community_archive, actor=owner, origin=CLI, archived=False)
    with pytest.raises(ServiceError, match="end date has passed"):
        restore(community=Community.objects.get(pk=ended.pk))
    moved = services.community_update(
        actor=owner,
        origin=CLI,
        community=Community.objects.get(pk=ended.pk),
        changes={"end_date": None},
    )
    assert not restore(community=moved).archived
    received = smtp_server.received  # type: ignore[attr-defined]
    assert [m["To"] for m in received] == [owner.email, owner.email]
    subjects = sorted(str(make_header(decode_header(m["Subject"]))) for m in received)
    assert subjects[0].startswith("A confidential community you own ends on")
    assert "Launch" in subjects[1]
    bodies = [m.get_payload(decode=True).decode() for m in received]
    assert all("orion" not in b.lower() for b in bodies) and any("Launch" in b for b in bodies)
    # The confidential one's link names it by id; it opens for its owner alone.
    (link,) = [
        line.removeprefix(django_settings.SITE_URL.rstrip("/"))
        for b in bodies
        if "Launch" not in b
        for line in b.splitlines()
        if "/settings/" in line
    ]
    assert link == f"/communities/{hidden.pk}/settings/"
    assert signed_in(owner).get(link)["Location"] == f"/c/{hidden.slug}/settings/"
    assert signed_in(personas.outsider).get(link).status_code == 404
    assert not Community.objects.get(pk=later.pk).reminded_at
    (tomorrow,) = lifecycle.all()
    assert tomorrow.run_after > timezone.now()
    # Tomorrow's run reminds nobody again; a new end date reminds again.
    services.community_update(
        actor=owner,
        origin=CLI,
        community=Community.objects.get(pk=soon.pk),
        changes={"end_date": today + datetime.timedelta(days=12)},
    )
    assert services.lifecycle_run(today)[1] == [(soon.pk, owner.pk)]
    assert hidden.pk not in {c for c, _ in services.lifecycle_run(today)[1]}


def test_suggestions_come_from_colleagues_follows_and_skills(personas: Personas) -> None:
    hr, me = personas.hr, personas.member
    unit = directory_services.org_unit_save(actor=hr, origin=CLI, name="Data", parent=None)
    colleague = make_user("colleague")
    for person in (me, colleague):
        directory_services.profile_update(
            actor=hr, person=person, origin=CLI, changes={"org_unit": unit}
        )
    directory_services.topics_set(
        actor=me, person=me, origin=CLI, kind="skill", items=[("Python", 3)]
    )
    directory_services.follow(actor=me, person=personas.animator)

    def community(name: str, visibility: Visibility = Visibility.PUBLIC, **kw: object) -> Community:
        return services.community_create(
            actor=personas.owner,
            origin=CLI,
            name=name,
            visibility=visibility,
            **kw,  # type: ignore[arg-type]
        )

    near, followed = community("Near"), community("Followed")
    community("Snakes", tags=["python"])
    mine, secret, far = community("Mine"), community("Hidden", Visibility.SECRET), community("Far")
    quiet = community("Quiet", Visibility.PRIVATE)
    Membership.objects.create(community=quiet, user=colleague)  # not mine to know
    Membership.objects.create(community=near, user=colleague)
    Membership.objects.create(community=secret, user=colleague)
    Membership.objects.create(community=followed, user=personas.animator)
    Membership.objects.create(community=mine, user=me)
    Membership.objects.create(community=mine, user=colleague)
    found = [c.name for c in community_selectors.browse(me, scope="suggested").results]
    assert found == ["Snakes", "Followed", "Near"]
    assert far.name not in found


def test_everyone_in_lyon_or_in_a_unit_is_invited_at_once(personas: Personas) -> None:
    hr = personas.hr
    lyon = directory_services.site_save(
        actor=hr, origin=CLI, name="Lyon", city="Lyon", country="FR"
    )
    data = directory_services.org_unit_save(actor=hr, origin=CLI, name="Data", parent=None)
    team = directory_services.org_unit_save(actor=hr, origin=CLI, name="Team", parent=data)
    for person, changes in (
        (personas.member, {"site": lyon}),
        (personas.deactivated, {"site": lyon}),
        (personas.animator, {"org_unit": team}),  # below the unit: invited too
    ):
        directory_services.profile_update(actor=hr, person=person, origin=CLI, changes=changes)
    community = services.community_create(
        actor=personas.owner, origin=CLI, name="Lyon", visibility=Visibility.PRIVATE
    )
    services.invite(actor=personas.owner, origin=CLI, community=community, site=lyon)
    services.invite(actor=personas.owner, origin=CLI, community=community, org_unit=data)
    invited = set(community.invitations.values_list("user__email", flat=True))
    assert invited == {personas.member.email, personas.animator.email}

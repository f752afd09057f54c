"""The one policy: its three forms agree, and hidden looks exactly like missing.

Every protected type joins OBJECTS below when it arrives.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.test import Client

from essaim import access
from essaim.accounts import services
from essaim.accounts.models import ApiToken, User
from essaim.communities.models import Membership
from essaim.communities.models import Visibility as CommunityVisibility
from essaim.directory import services as directory_services
from essaim.directory.models import FieldKind, PersonToken, ProfileFieldValue, Visibility
from essaim.governance.models import AuditEntry
from essaim.http import CLI
from essaim.notifications.models import Kind, Notification, PushSubscription
from essaim.notifications.services import notify
from essaim.realtime import events
from essaim.realtime.models import Event
from tests.conftest import PASSWORD, Personas
from tests.test_communities import build as build_community


def objects_of(personas: Personas) -> list[Model]:
    """One object of every protected type, made the way the app makes them."""
    token, _ = services.token_create(
        user=personas.member, name="t", scope="read", password=PASSWORD
    )
    services.user_deactivate(actor=personas.admin, origin=CLI, user=personas.outsider)
    services.user_reactivate(actor=personas.admin, origin=CLI, user=personas.outsider)
    values = []
    for visibility in Visibility:
        field = directory_services.profile_field_save(
            actor=personas.admin, origin=CLI, key=f"f-{visibility}", label=visibility,
            kind=FieldKind.TEXT, visibility=visibility,
        )  # fmt: skip
        for person in (personas.member, personas.external):
            directory_services.field_values_set(
                actor=person, person=person, origin=CLI, values={field.key: "value"}
            )
        values += ProfileFieldValue.objects.filter(field=field)
    entries = list(AuditEntry.objects.all())
    # Index words of every visibility (the custom fields above), of an employee, an
    # external customer and a reactivated person.
    words = list(
        PersonToken.objects.filter(
            user__in=[personas.member, personas.external, personas.outsider]
        ).order_by("user_id", "token")
    )
    assert {w.visibility for w in words} == set(Visibility)
    # A community of every visibility, with every role, an invitee and (external) a customer.
    communities = [build_community(personas, v) for v in CommunityVisibility]
    memberships = list(Membership.objects.filter(community__in=communities))
    # Events to each community's readers, to one of them only, and to one person.
    stream = [events.emit("test.all", {}, community=c) for c in communities]
    stream += [events.emit("test.one", {}, community=c, users=[personas.hr]) for c in communities]
    stream.append(events.emit("test.direct", {}, users=[personas.external]))
    stream.append(events.emit("test.direct", {}, users=[personas.deactivated, personas.member]))
    # Notifications: each persona told about each community (the app's way, which skips
    # the deactivated), and one made for the deactivated person all the same.
    for community in communities:
        notify(Kind.INVITATION, personas.all(), target=community, actor=personas.admin)
    Notification.objects.create(
        user=personas.deactivated, kind=Kind.INVITATION, priority=1,
        target_type="community", target_id=communities[0].pk,
    )  # fmt: skip
    device = PushSubscription.objects.create(
        user=personas.member, endpoint="https://fcm.googleapis.com/x", p256dh="k", auth="a"
    )
    return [
        *personas.all(),
        token,
        *Notification.objects.all(),
        device,
        *values,
        *entries,
        *words,
        *communities,
        *memberships,
        *stream,
    ]


def test_the_three_forms_agree_for_every_persona_and_object(personas: Personas) -> None:
    objects = objects_of(personas)
    viewers: list[User | AnonymousUser] = [*personas.all(), AnonymousUser()]
    checked = 0
    for viewer in viewers:
        for obj in objects:
            model = type(obj)
            allowed = access.can(viewer, access.VIEW, obj)
            listed = access.visible(viewer, model._default_manager.filter(pk=obj.pk)).exists()
            receives = (
                isinstance(viewer, User) and access.audience(obj).filter(pk=viewer.pk).exists()
            )
            assert allowed == listed == receives, (viewer, obj, allowed, listed, receives)
            checked += 1
        bulk = access.can_many(viewer, [o for o in objects if isinstance(o, User)])
        assert all(
            bulk[o.pk] == access.can(viewer, access.VIEW, o) for o in objects if isinstance(o, User)
        )
    assert checked == len(viewers) * len(objects)
    # The batch form the real-time fan-out uses agrees too.
    stream = [o for o in objects if isinstance(o, Event)]
    people = personas.all()
    for among in (people, people[::2], people[1::2]):  # whoever is connected, or some
        batch = access.event_audiences(stream, [p.pk for p in among])
        for event in stream:
            expected = {p.pk for p in among if access.can(p, access.VIEW, event)}
            assert batch[event.pk] == expected, event


def test_what_each_persona_sees(personas: Personas) -> None:
    token = services.token_create(user=personas.member, name="t", scope="read", password=PASSWORD)[
        0
    ]
    entry = services.user_deactivate(actor=personas.admin, origin=CLI, user=personas.outsider) and (
        AuditEntry.objects.get()
    )
    assert access.can(personas.member, "view", personas.owner)
    assert not access.can(personas.external, "view", personas.owner)
    assert access.can(personas.external, "view", personas.external)
    assert not access.can(personas.deactivated, "view", personas.deactivated)
    assert [p for p in personas.all() if access.can(p, "view", token)] == [personas.member]
    assert {p.pk for p in personas.all() if access.can(p, "view", entry)} == {
        personas.admin.pk,
        personas.compliance.pk,
    }
    assert not access.can(AnonymousUser(), "view", personas.member)


def test_only_administrators_manage_people(personas: Personas) -> None:
    managers = [name for name, p in personas.items() if access.can(p, "manage", personas.member)]
    assert managers == ["admin"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/users/{id}", "/api/v1/audit/{id}", "/api/v1/tokens/{id}"],
)
def test_hidden_and_missing_objects_get_byte_identical_404s(
    personas: Personas, token_client: Callable[..., Client], path: str
) -> None:
    hidden = {
        "/api/v1/users/{id}": personas.owner.pk,
        "/api/v1/audit/{id}": services.user_deactivate(
            actor=personas.admin, origin=CLI, user=personas.outsider
        )
        and AuditEntry.objects.get().pk,
        "/api/v1/tokens/{id}": services.token_create(
            user=personas.member, name="t", scope="read", password=PASSWORD
        )[0].pk,
    }[path]
    client = token_client(personas.external)
    method = client.delete if "tokens" in path else client.get
    for lang in ("en", "fr"):
        seen = method(path.format(id=hidden), headers={"Accept-Language": lang})
        missing = method(path.format(id=999_999), headers={"Accept-Language": lang})
        assert seen.status_code == missing.status_code == 404
        assert seen.content == missing.content
    assert ApiToken.objects.filter(revoked_at=None).count() == 2  # nothing was revoked


def test_access_helpers_raise_not_found_for_bad_ids(personas: Personas) -> None:
    for bad in (None, "abc", -1, 10**12):
        with pytest.raises(access.NotFound):
            access.access_user(personas.member, bad)


def test_who_reads_which_profile_fields(personas: Personas) -> None:
    """The built-in fields of the member's profile, as each persona reads them."""
    member = personas.member

    def readable(viewer: User) -> set[str]:
        return {name for name in access.PROFILE_FIELDS if access.sees_field(viewer, member, name)}

    everyone = {n for n, v in access.PROFILE_FIELDS.items() if v == Visibility.EVERYONE}
    employees = everyone | {
        n for n, v in access.PROFILE_FIELDS.items() if v == Visibility.EMPLOYEES
    }
    assert "phone" in employees and "phone" not in everyone
    for name, viewer in personas.items():
        expected = {
            "external": set(),  # sees no employee at all
            "deactivated": set(),
        }.get(name, employees)
        assert readable(viewer) == expected, name
    assert readable(AnonymousUser()) == set()  # type: ignore[arg-type]
    # Everyone reads all of their own profile, an external customer included.
    external = personas.external
    assert all(access.sees_field(external, external, n) for n in access.PROFILE_FIELDS)
    # Only HR, administrators and the person read an administrators-only custom field.
    admins_only = [
        name for name, viewer in personas.items()
        if access.sees_field(viewer, member, Visibility.ADMINS)
    ]  # fmt: skip
    assert admins_only == ["member", "hr", "admin"]

"""Every write to the directory. Each service checks permission through access.py,
validates, writes in one transaction, keeps the search index in step and leaves an
audit entry when someone changes another person's profile or the organisation."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from essaim import access
from essaim.accounts.models import Role, User, UserKind
from essaim.accounts.services import ServiceError, clean_text
from essaim.communities import services as community_services
from essaim.governance.services import audit_record
from essaim.http import Origin
from essaim.realtime import presence

from . import index, photos
from .models import (
    BIO_MAX,
    TEXT_MAX,
    Availability,
    Endorsement,
    FieldKind,
    Follow,
    LanguageLevel,
    OrgUnit,
    Profile,
    ProfileField,
    ProfileFieldValue,
    ProfileTopic,
    Site,
    SkillLevel,
    SpokenLanguage,
    Topic,
    TopicKind,
    Visibility,
)
from .text import LANGUAGES, normalize

ORG_FIELDS = frozenset({"job_title", "org_unit", "site", "manager"})
PERSONAL_FIELDS = frozenset({"phone", "mobile_phone", "timezone", "pronouns", "bio"})
MAX_TOPICS = 50
MAX_LANGUAGES = 20
PHONE = re.compile(r"^[0-9+()./ -]{0,40}$")
TIMEZONES = frozenset(zoneinfo.available_timezones())


def _require(allowed: bool) -> None:
    if not allowed:
        raise access.Forbidden


def _audit(actor: User, person: User, origin: Origin, action: str, data: dict[str, Any]) -> None:
    """Changes to someone else's profile are administrative: they go to the audit log."""
    if actor.pk != person.pk:
        audit_record(actor=actor, action=action, target=person, origin=origin, data=data)


def profile_of(user: User) -> Profile:
    profile, _created = Profile.objects.get_or_create(
        user=user, defaults={"manager_path": f"/{user.pk}/"}
    )
    return profile


# --- Profile fields --------------------------------------------------------------------


def _clean(profile: Profile, name: str, value: Any) -> Any:
    if name in ("job_title", "pronouns"):
        return clean_text(value, name, TEXT_MAX if name == "job_title" else 40)
    if name == "bio":
        return clean_text(value, name, BIO_MAX)
    if name in ("phone", "mobile_phone"):
        phone = clean_text(value, name, 40)
        if not PHONE.match(phone):
            raise ServiceError(
                _("A phone number has digits, spaces and + ( ) . - only."), field=name
            )
        return phone
    if name == "timezone":
        zone = clean_text(value, name, 64)
        if zone and zone not in TIMEZONES:
            raise ServiceError(_("Choose a time zone from the list."), field=name)
        return zone
    if name == "org_unit" and not (value is None or isinstance(value, OrgUnit)):
        raise ServiceError(_("Choose an org unit."), field=name)
    if name == "site" and not (value is None or isinstance(value, Site)):
        raise ServiceError(_("Choose a site."), field=name)
    if name == "manager":
        if value is not None and not (
            isinstance(value, User) and value.is_active and value.kind == UserKind.EMPLOYEE
        ):
            raise ServiceError(_("A manager is an active employee."), field=name)
        return value
    return value


def profile_update(
    *, actor: User, person: User, origin: Origin, changes: dict[str, Any]
) -> Profile:
    """Change profile fields: personal ones by the person (or HR), organisational ones
    (job title, unit, site, manager) by HR and administrators."""
    unknown = changes.keys() - ORG_FIELDS - PERSONAL_FIELDS
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    if changes.keys() & ORG_FIELDS:
        _require(access.can(actor, "edit_org", person))
    if changes.keys() & PERSONAL_FIELDS:
        _require(access.can(actor, "edit_profile", person))
    with transaction.atomic():
        profile = profile_of(person)
        profile = Profile.objects.select_for_update().get(pk=profile.pk)
        cleaned = {name: _clean(profile, name, value) for name, value in changes.items()}
        if "manager" in cleaned:
            _move_under(profile, cleaned.pop("manager"))
        for name, value in cleaned.items():
            setattr(profile, name, value)
        profile.save()
        _audit(actor, person, origin, "profile.update", {"fields": sorted(changes)})
        index.reindex([person.pk])
        if changes.keys() & {"org_unit", "site"}:
            community_services.sync_people([person.pk])
    return profile


def _move_under(profile: Profile, manager: User | None) -> None:
    """Set the manager and the materialised chain of the person and everyone below."""
    own = f"{profile.user_id}/"
    if manager is None:
        new_path = "/" + own
    else:
        chain = profile_of(manager).manager_path
        if manager.pk == profile.user_id or f"/{own}" in chain:
            raise ServiceError(
                _("%(name)s reports to this person: that would make a loop.")
                % {"name": manager.display_name},
                field="manager",
            )
        new_path = chain + own
    old_path = profile.manager_path or "/" + own
    profile.manager = manager
    profile.manager_path = new_path
    if old_path != new_path:
        Profile.objects.filter(manager_path__startswith=old_path).exclude(pk=profile.pk).update(
            manager_path=Concat(Value(new_path), Substr("manager_path", len(old_path) + 1))
        )


# --- Skills, expertise, interests, projects, "ask me about" ---------------------------


def topic_for(name: str) -> Topic:
    """The topic of this name, made on first use (same topic whatever the case/accents)."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise ServiceError(_("A topic has 1 to 80 characters."), field="topics")
    topic, _created = Topic.objects.get_or_create(key=normalize(name), defaults={"name": name})
    return topic


def topics_set(
    *,
    actor: User,
    person: User,
    origin: Origin,
    kind: TopicKind,
    items: Sequence[tuple[str, int | None]],
) -> list[ProfileTopic]:
    """Replace the person's list of one kind (skills with a level 1 to 4, the others without)."""
    _require(access.can(actor, "edit_profile", person))
    if len(items) > MAX_TOPICS:
        raise ServiceError(_("At most %(n)d items.") % {"n": MAX_TOPICS}, field="topics")
    for _name, level in items:
        if kind == TopicKind.SKILL and level not in SkillLevel.values:
            raise ServiceError(_("Each skill needs a level from 1 to 4."), field="level")
        if kind != TopicKind.SKILL and level is not None:
            raise ServiceError(_("Only skills have a level."), field="level")
    with transaction.atomic():
        chosen: dict[int, ProfileTopic] = {}
        for name, level in items:
            topic = topic_for(name)
            chosen[topic.pk] = ProfileTopic(user=person, topic=topic, kind=kind, level=level)
        ProfileTopic.objects.filter(user=person, kind=kind).delete()
        rows = ProfileTopic.objects.bulk_create(chosen.values())
        _audit(actor, person, origin, "profile.update", {"fields": [f"topics.{kind}"]})
        index.reindex([person.pk])
    return rows


def languages_set(
    *, actor: User, person: User, origin: Origin, items: Sequence[tuple[str, str]]
) -> None:
    _require(access.can(actor, "edit_profile", person))
    if len(items) > MAX_LANGUAGES:
        raise ServiceError(_("At most %(n)d items.") % {"n": MAX_LANGUAGES}, field="languages")
    for code, level in items:
        if code not in LANGUAGES:
            raise ServiceError(_("Unknown language: %(code)s.") % {"code": code}, field="languages")
        if level not in LanguageLevel.values:
            raise ServiceError(_("Choose a level for each language."), field="languages")
    with transaction.atomic():
        SpokenLanguage.objects.filter(user=person).delete()
        SpokenLanguage.objects.bulk_create(
            SpokenLanguage(user=person, language=code, level=level)
            for code, level in dict(items).items()
        )
        _audit(actor, person, origin, "profile.update", {"fields": ["languages"]})


# --- Custom fields ---------------------------------------------------------------------


def _clean_field_value(field: ProfileField, value: str) -> str:
    value = clean_text(value, field.key, 500)
    if not value:
        return value
    if field.kind == FieldKind.CHOICE and value not in field.choices:
        raise ServiceError(_("Choose one of the proposed values."), field=field.key)
    if field.kind == FieldKind.LINK:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError as exc:
            raise ServiceError(_("Enter a web address (http or https)."), field=field.key) from exc
    if field.kind == FieldKind.DATE:
        try:
            value = datetime.date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ServiceError(_("Enter a date as YYYY-MM-DD."), field=field.key) from exc
    return value


def field_values_set(*, actor: User, person: User, origin: Origin, values: dict[str, str]) -> None:
    """Set custom field values by field key; an empty value removes it."""
    _require(access.can(actor, "edit_profile", person))
    fields = {f.key: f for f in ProfileField.objects.filter(key__in=values)}
    unknown = values.keys() - fields.keys()
    if unknown:
        raise ServiceError(
            _("Unknown field: %(key)s.") % {"key": sorted(unknown)[0]}, field="fields"
        )
    cleaned = {key: _clean_field_value(fields[key], value) for key, value in values.items()}
    with transaction.atomic():
        for key, value in cleaned.items():
            if value:
                ProfileFieldValue.objects.update_or_create(
                    user=person, field=fields[key], defaults={"value": value}
                )
            else:
                ProfileFieldValue.objects.filter(user=person, field=fields[key]).delete()
        _audit(actor, person, origin, "profile.update", {"fields": sorted(values)})
        index.reindex([person.pk])


def profile_field_save(
    *,
    actor: User,
    origin: Origin,
    key: str,
    label: str,
    kind: FieldKind,
    visibility: Visibility,
    choices: Sequence[str] = (),
    position: int = 0,
) -> ProfileField:
    """Create or change (by key) a custom profile field (administrators)."""
    _require(access.is_admin(actor))
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,49}", key):
        raise ServiceError(_("A key has lower-case letters, digits and dashes."), field="key")
    label = clean_text(label, "label", 80)
    if not label:
        raise ServiceError(_("A field needs a label."), field="label")
    choices = [c.strip() for c in choices if c.strip()]
    if (kind == FieldKind.CHOICE) != bool(choices):
        raise ServiceError(_("Choices go with choice fields, and only with them."), field="choices")
    with transaction.atomic():
        field, created = ProfileField.objects.update_or_create(
            key=key,
            defaults={
                "label": label,
                "kind": kind,
                "visibility": visibility,
                "choices": choices,
                "position": position,
            },
        )
        audit_record(
            actor=actor,
            action="profile_field.create" if created else "profile_field.update",
            target=field,
            origin=origin,
            data={"key": key, "kind": kind, "visibility": visibility},
        )
        # A visibility change moves who may match these values in search.
        index.reindex(
            ProfileFieldValue.objects.filter(field=field).values_list("user_id", flat=True)
        )
    return field


# --- Organisation ----------------------------------------------------------------------


def org_unit_save(
    *,
    actor: User,
    origin: Origin,
    name: str,
    parent: OrgUnit | None,
    code: str = "",
    unit: OrgUnit | None = None,
) -> OrgUnit:
    """Create a unit, or rename or move ``unit`` (HR and administrators)."""
    _require(access.has_role(actor, Role.HR))
    name = clean_text(name, "name", TEXT_MAX)
    if not name:
        raise ServiceError(_("A unit needs a name."), field="name")
    code = clean_text(code, "code", 64)
    with transaction.atomic():
        if unit is None:
            unit = OrgUnit.objects.create(name=name, code=code, parent=parent)
            action = "org_unit.create"
        else:
            action = "org_unit.update"
        if parent is not None and f"/{unit.pk}/" in parent.path:
            raise ServiceError(_("A unit cannot move under itself."), field="parent")
        old_path = unit.path
        unit.name, unit.code, unit.parent = name, code, parent
        unit.path = (parent.path if parent else "/") + f"{unit.pk}/"
        unit.save()
        if old_path and old_path != unit.path:
            OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
                path=Concat(Value(unit.path), Substr("path", len(old_path) + 1))
            )
        audit_record(actor=actor, action=action, target=unit, origin=origin, data={"name": name})
        index.reindex(Profile.objects.filter(org_unit=unit).values_list("user_id", flat=True))
    return unit


def site_save(
    *, actor: User, origin: Origin, name: str, city: str, country: str, site: Site | None = None
) -> Site:
    _require(access.has_role(actor, Role.HR))
    name = clean_text(name, "name", TEXT_MAX)
    city = clean_text(city, "city", 100)
    if not name or not re.fullmatch(r"[A-Z]{2}", country):
        raise ServiceError(_("A site needs a name and a two-letter country code."), field="name")
    with transaction.atomic():
        site = site or Site()
        site.name, site.city, site.country = name, city, country
        site.save()
        audit_record(
            actor=actor, action="site.save", target=site, origin=origin, data={"name": name}
        )
        index.reindex(Profile.objects.filter(site=site).values_list("user_id", flat=True))
    return site


def rebuild_paths() -> None:
    """Recompute every materialised path from the parent and manager links (after a bulk
    load that wrote the links alone, like the demo organisation)."""
    parents = dict(OrgUnit.objects.values_list("id", "parent_id"))
    managers = dict(Profile.objects.values_list("user_id", "manager_id"))

    def path(node: int, links: Mapping[int, int | None]) -> str:
        chain: list[int] = []
        current: int | None = node
        while current is not None and current not in chain:
            chain.append(current)
            current = links.get(current)
        return "/" + "".join(f"{n}/" for n in reversed(chain))

    units = [OrgUnit(pk=pk, path=path(pk, parents)) for pk in parents]
    OrgUnit.objects.bulk_update(units, ["path"], batch_size=2000)
    profiles = list(Profile.objects.only("id", "user_id"))
    for profile in profiles:
        profile.manager_path = path(profile.user_id, managers)
    Profile.objects.bulk_update(profiles, ["manager_path"], batch_size=2000)


# --- Endorsements and follows ----------------------------------------------------------


def endorse(*, actor: User, person: User, topic: Topic) -> Endorsement:
    """Vouch for a skill or area of expertise the person declared (once; idempotent)."""
    _require(access.sees_field(actor, person, "topics"))
    if actor.pk == person.pk:
        raise ServiceError(_("You cannot endorse yourself."), code="forbidden")
    if not ProfileTopic.objects.filter(
        user=person, topic=topic, kind__in=[TopicKind.SKILL, TopicKind.EXPERTISE]
    ).exists():
        raise ServiceError(_("This person has not declared this skill."), field="topic")
    endorsement, _created = Endorsement.objects.get_or_create(
        endorser=actor, person=person, topic=topic
    )
    return endorsement


def endorsement_withdraw(*, actor: User, person: User, topic: Topic) -> None:
    _require(access.is_active(actor))
    Endorsement.objects.filter(endorser=actor, person=person, topic=topic).delete()


def follow(*, actor: User, person: User) -> Follow:
    """Follow a colleague: no request needed inside the company."""
    _require(access.sees_field(actor, person, "follows"))
    if actor.pk == person.pk:
        raise ServiceError(_("You cannot follow yourself."), code="forbidden")
    relation, _created = Follow.objects.get_or_create(follower=actor, followed=person)
    return relation


def unfollow(*, actor: User, person: User) -> None:
    _require(access.is_active(actor))
    Follow.objects.filter(follower=actor, followed=person).delete()


# --- Status and photo ------------------------------------------------------------------


def status_set(
    *,
    actor: User,
    availability: Availability,
    text: str = "",
    until: datetime.datetime | None = None,
) -> Profile:
    """The person's own availability and status message, optionally until a time."""
    _require(access.is_active(actor))
    text = clean_text(text, "status_text", 100)
    if until is not None and until <= timezone.now():
        raise ServiceError(_("Choose a time in the future."), field="status_until")
    profile = profile_of(actor)
    profile.availability, profile.status_text, profile.status_until = availability, text, until
    profile.save(update_fields=["availability", "status_text", "status_until", "updated_at"])
    transaction.on_commit(lambda: presence.tell(actor.pk))  # live to whoever watches
    return profile


def photo_set(*, actor: User, person: User, origin: Origin, source: BinaryIO) -> Profile:
    """Replace the photo: checked and re-encoded (photos.process_photo), stored under a
    random name; the old files go once the change is committed."""
    _require(access.can(actor, "edit_profile", person))
    try:
        images = photos.process_photo(source)
    except photos.PhotoError as exc:
        raise ServiceError(exc.message, field="photo") from exc
    name = photos.store_photo(images)
    try:
        with transaction.atomic():
            profile = Profile.objects.select_for_update().get(pk=profile_of(person).pk)
            old = profile.photo
            profile.photo = name
            profile.save(update_fields=["photo", "updated_at"])
            _audit(actor, person, origin, "profile.update", {"fields": ["photo"]})
            if old:
                transaction.on_commit(lambda: photos.delete_photo(old))
    except BaseException:
        photos.delete_photo(name)
        raise
    return profile


def photo_remove(*, actor: User, person: User, origin: Origin) -> None:
    _require(access.can(actor, "edit_profile", person))
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=profile_of(person).pk)
        old, profile.photo = profile.photo, ""
        profile.save(update_fields=["photo", "updated_at"])
        _audit(actor, person, origin, "profile.update", {"fields": ["photo"]})
        if old:
            transaction.on_commit(lambda: photos.delete_photo(old))

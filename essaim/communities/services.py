"""Every write to communities: each checks the actor's right through access.py, refuses
bad input with a ServiceError before writing anything, writes in one transaction and
leaves an audit entry. Changes others should see emit their real-time event
(realtime.events) in that same transaction."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, BinaryIO

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from essaim import access
from essaim.accounts.models import User, UserKind
from essaim.accounts.services import ServiceError, clean_text
from essaim.directory import photos
from essaim.directory.models import OrgUnit, Profile, Site
from essaim.governance.services import audit_record
from essaim.http import Origin
from essaim.notifications import services as notifications
from essaim.notifications.models import Kind as Told
from essaim.realtime import events
from essaim.search import services as search

from .models import (
    NAME_MAX,
    RUNNERS,
    SLUG_MAX,
    TAG_MAX,
    TAGS_MAX,
    TEXT_MAX,
    Community,
    Invitation,
    JoinRequest,
    Kind,
    Membership,
    Role,
    Visibility,
    live_invitations,
)

SETTINGS = ("name", "description", "rules", "kind", "tags", "end_date", "confidential")
INVITE_MAX = 5000  # people one invitation may reach ("everyone in Lyon")


def _require(allowed: bool) -> None:
    if not allowed:
        raise access.Forbidden


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise ServiceError(_("Tags are a list of words."), field="tags")
    tags = list(dict.fromkeys(t.strip().lower() for t in value if t.strip()))
    if len(tags) > TAGS_MAX or any(len(t) > TAG_MAX for t in tags):
        raise ServiceError(
            _("At most %(count)d tags of %(limit)d characters.")
            % {"count": TAGS_MAX, "limit": TAG_MAX},
            field="tags",
        )
    return tags


def _clean_settings(community: Community, changes: dict[str, Any]) -> None:
    """Checks and sets the settings in ``changes`` on the unsaved community."""
    unknown = changes.keys() - set(SETTINGS)
    if unknown:
        raise ValueError(f"not community settings: {sorted(unknown)}")
    if "name" in changes:
        community.name = clean_text(changes["name"], "name", NAME_MAX, required=True)
    if "description" in changes:
        community.description = clean_text(changes["description"], "description", TEXT_MAX)
    if "rules" in changes:
        community.rules = clean_text(changes["rules"], "rules", TEXT_MAX)
    if "kind" in changes:
        if changes["kind"] not in Kind.values:
            raise ServiceError(_("Unknown type of community."), field="kind")
        community.kind = changes["kind"]
    if "tags" in changes:
        community.tags = _tags(changes["tags"])
    if "end_date" in changes:
        end = changes["end_date"]
        if end is not None and not isinstance(end, datetime.date):
            raise ServiceError(_("Enter a date."), field="end_date")
        if end != community.end_date:
            # Archived the next night otherwise, by the lifecycle task.
            if end is not None and end < timezone.localdate():
                raise ServiceError(_("An end date cannot be in the past."), field="end_date")
            community.reminded_at = None  # a new end: a new reminder
        community.end_date = end
    if "confidential" in changes:
        if not isinstance(changes["confidential"], bool):
            raise ServiceError(_("Say yes or no."), field="confidential")
        community.confidential = changes["confidential"]
    if community.confidential and community.visibility == Visibility.PUBLIC:
        raise ServiceError(
            _("A public community cannot be confidential: make it private or secret first."),
            field="confidential",
        )


def _emit_updated(community: Community) -> None:
    events.emit(
        "community.updated",
        {
            "community": community.pk,
            "slug": community.slug,
            "name": community.name,
            "archived": community.archived,
        },
        community=community,
    )


def _emit_members(
    community: Community, joined: Iterable[int] = (), left: Iterable[int] = ()
) -> None:
    """``community.member_joined`` / ``member_left`` for memberships just created or
    removed in the current transaction, to the community's readers, with the count after
    the change. Someone who left and no longer reads the community (private, secret) is
    told too, on their own: the community's events stop reaching them."""
    joined, left = sorted(joined), sorted(left)
    if not joined and not left:
        return
    # Counted as the community page counts them (selectors.community_view).
    members = community.memberships.filter(user__is_active=True).count()
    roles = dict(community.memberships.filter(user_id__in=joined).values_list("user_id", "role"))
    people = User.objects.in_bulk([*joined, *left])
    for kind, ids in (("joined", joined), ("left", left)):
        for pk in ids:
            person = people[pk]
            data = {
                "community": community.pk,
                "slug": community.slug,
                "user": pk,
                "name": person.display_name,
                "members": members,
            }
            if kind == "joined":
                data["role"] = roles[pk]  # the client lists members by role
            events.emit(f"community.member_{kind}", data, community=community)
            if kind == "left" and person.is_active and not access.can(person, "read", community):
                events.emit("community.member_left", data, users=[pk])


def _slug_for(name: str, slug: str) -> str:
    slug = slugify(slug or name)[:SLUG_MAX].strip("-")
    if not slug:
        raise ServiceError(_("Give the community an address made of letters."), field="slug")
    return slug


def community_create(
    *,
    actor: User,
    origin: Origin,
    name: str,
    visibility: str,
    slug: str = "",
    **settings: Any,
) -> Community:
    """A new community; its creator is its first owner. Employees create communities,
    external customers do not."""
    _require(access.sees_everyone(actor))
    if visibility not in Visibility.values:
        raise ServiceError(_("Unknown visibility."), field="visibility")
    community = Community(visibility=visibility, created_by=actor)
    _clean_settings(community, {"name": name, **settings})
    community.slug = _slug_for(name, slug)
    try:
        with transaction.atomic():
            community.save()
            Membership.objects.create(community=community, user=actor, role=Role.OWNER)
            search.changed(Community, community.pk)
            audit_record(actor=actor, action="community.create", target=community, origin=origin)
    except IntegrityError:
        # Said the same way whoever holds the address, secret communities included.
        raise ServiceError(
            _("This address is not available: choose another."), field="slug"
        ) from None
    return community


def community_update(
    *, actor: User, origin: Origin, community: Community, changes: dict[str, Any]
) -> Community:
    """Settings, and visibility: an owner's (or an administrator's) decision."""
    _require(access.can(actor, "configure", community))
    changes = dict(changes)
    visibility = changes.pop("visibility", community.visibility)
    if visibility not in Visibility.values:
        raise ServiceError(_("Unknown visibility."), field="visibility")
    if visibility != Visibility.EXTERNAL and (
        community.memberships.filter(user__kind=UserKind.EXTERNAL).exists()
        or community.invitations.filter(user__kind=UserKind.EXTERNAL).exists()
    ):
        raise ServiceError(
            _("External customers are in this community: it can only stay external."),
            field="visibility",
        )
    community.visibility = visibility
    _clean_settings(community, changes)
    with transaction.atomic():
        community.save()
        # A community made secret leaves employees' searches with this commit.
        search.changed(Community, community.pk, at_once=visibility == Visibility.SECRET)
        audit_record(
            actor=actor,
            action="community.update",
            target=community,
            origin=origin,
            data={"visibility": visibility, "changed": sorted(changes)},
        )
        _emit_updated(community)
    return community


def community_archive(
    *, actor: User | None, origin: Origin, community: Community, archived: bool = True
) -> Community:
    """Archive (read-only, still found by its members) or restore. ``actor`` None is the
    end-date task."""
    if actor is not None:
        _require(access.can(actor, "configure", community))
    if community.archived == archived:
        return community
    ended = community.end_date is not None and community.end_date < timezone.localdate()
    if not archived and ended:  # the lifecycle task would archive it again tonight
        raise ServiceError(
            _("Its end date has passed: change or remove it to restore the community."),
            field="end_date",
        )
    community.archived_at = timezone.now() if archived else None
    with transaction.atomic():
        community.save(update_fields=["archived_at"])
        audit_record(
            actor=actor,
            action="community.archive" if archived else "community.restore",
            target=community,
            origin=origin,
        )
        _emit_updated(community)
    return community


def cover_set(
    *, actor: User, origin: Origin, community: Community, source: BinaryIO | None
) -> Community:
    """Replace the cover image (checked and re-encoded by directory.photos), or remove it
    when ``source`` is None; old files go once the change is committed."""
    _require(access.can(actor, "configure", community))
    name = ""
    if source is not None:
        try:
            name = photos.store_photo(photos.process_photo(source, photos.COVER), photos.COVER)
        except photos.PhotoError as exc:
            raise ServiceError(exc.message, field="cover") from exc
    old = community.cover
    try:
        with transaction.atomic():
            community.cover = name
            community.save(update_fields=["cover"])
            audit_record(actor=actor, action="community.cover", target=community, origin=origin)
            if old:
                transaction.on_commit(lambda: photos.delete_photo(old, photos.COVER))
    except BaseException:
        if name:
            photos.delete_photo(name, photos.COVER)
        raise
    return community


# --- Members ---------------------------------------------------------------------------


def join(*, actor: User, community: Community) -> Membership:
    """Join a public or external community (employees)."""
    _require(access.can(actor, "join", community))
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(community=community, user=actor)
        Invitation.objects.filter(community=community, user=actor).delete()
        JoinRequest.objects.filter(community=community, user=actor).delete()
        if created:
            _emit_members(community, joined=[actor.pk])
    return membership


def join_request(*, actor: User, community: Community, message: str = "") -> JoinRequest:
    """Ask to join a private community; its owners and animators decide."""
    _require(access.can(actor, "request", community))
    message = clean_text(message, "message", 500)
    with transaction.atomic():
        request, created = JoinRequest.objects.get_or_create(
            community=community, user=actor, defaults={"message": message}
        )
        deciders = community.memberships.filter(role__in=RUNNERS, user__is_active=True)
        runners = list(deciders.values_list("user_id", flat=True))
        if created:  # to those who decide only (nobody, when nobody decides)
            data = {
                "community": community.pk,
                "slug": community.slug,
                "user": actor.pk,
                "name": actor.display_name,
            }
            events.emit("community.join_requested", data, community=community, users=runners)
            notifications.notify(
                Told.JOIN_REQUEST, runners, target=community, actor=actor, community=community
            )
    return request


def join_request_decide(
    *, actor: User, origin: Origin, request: JoinRequest, approve: bool
) -> Membership | None:
    community = request.community
    _require(access.can(actor, "manage", community))
    with transaction.atomic():
        membership = None
        if approve and request.user.is_active:
            membership, created = Membership.objects.get_or_create(
                community=community, user=request.user
            )
            if created:
                _emit_members(community, joined=[request.user_id])
        request.delete()
        audit_record(
            actor=actor,
            action="community.request." + ("approve" if approve else "decline"),
            target=community,
            origin=origin,
            data={"user": request.user_id},
        )
    return membership


def invite(
    *,
    actor: User,
    origin: Origin,
    community: Community,
    people: Iterable[User] = (),
    org_unit: OrgUnit | None = None,
    site: Site | None = None,
    role: str = Role.MEMBER,
) -> list[Invitation]:
    """Invite people, or everyone in an org unit (and below) or at a site. People already
    in or already invited are skipped; a deactivated person, someone the actor may not
    see, or an external customer for a community that is not external is refused. A bot
    (nobody answers for it) is a member at once, in the chat channel only: it never
    owns or runs a community."""
    _require(access.can(actor, "manage", community))
    _check_role_grant(actor, community, role)
    invited = {p.pk: p for p in people}
    for person in invited.values():
        if not person.is_active or not access.can(actor, access.VIEW, person):
            raise ServiceError(_("%(name)s cannot be invited.") % {"name": person}, field="people")
        if person.kind == UserKind.EXTERNAL and community.visibility != Visibility.EXTERNAL:
            raise ServiceError(
                _("%(name)s is an external customer: only external communities take them.")
                % {"name": person},
                field="people",
            )
        if person.kind == UserKind.BOT and role in RUNNERS:
            raise ServiceError(
                _("%(name)s is a bot: it joins as a member or a reader.") % {"name": person},
                field="role",
            )
    bots = {pk for pk, person in invited.items() if person.kind == UserKind.BOT}
    place = Q(pk__in=[])
    if org_unit is not None:
        place |= Q(profile__org_unit__path__startswith=org_unit.path)
    if site is not None:
        place |= Q(profile__site=site)
    group = access.visible(actor, access.active_users().filter(place, kind=UserKind.EMPLOYEE))
    ids = set(invited) | set(group.values_list("pk", flat=True)[: INVITE_MAX + 1])
    if len(ids) > INVITE_MAX:
        raise ServiceError(
            _("One invitation reaches at most %(count)d people.") % {"count": INVITE_MAX}
        )
    ids -= set(community.memberships.values_list("user", flat=True))
    ids -= set(community.invitations.filter(live_invitations()).values_list("user", flat=True))
    bots &= ids
    ids -= bots
    with transaction.atomic():
        community.invitations.filter(user_id__in=ids).delete()  # expired ones are renewed
        created = Invitation.objects.bulk_create(
            [
                Invitation(community=community, user_id=pk, role=role, invited_by=actor)
                for pk in sorted(ids)
            ]
        )
        Membership.objects.bulk_create(
            [Membership(community=community, user_id=pk, role=role) for pk in sorted(bots)]
        )
        _emit_members(community, joined=bots)
        audit_record(
            actor=actor,
            action="community.invite",
            target=community,
            origin=origin,
            data={"people": sorted(ids | bots), "role": role},
        )
        # Without a community: the invitee is not its reader (yet), even of a secret one.
        data = {"community": community.pk, "slug": community.slug, "name": community.name}
        events.emit("community.invited", {**data, "role": role}, users=ids)
        notifications.notify(Told.INVITATION, ids, target=community, actor=actor)
    return created


def invitation_answer(*, actor: User, invitation: Invitation, accept: bool) -> Membership | None:
    """The invited person accepts (into the role they were invited to) or declines."""
    _require(invitation.user_id == actor.pk and actor.is_active)
    community = invitation.community
    if not Invitation.objects.filter(live_invitations(), pk=invitation.pk).exists():
        raise ServiceError(_("This invitation is no longer valid: ask for a new one."))
    if accept and community.archived:
        raise ServiceError(_("This community is archived: nobody joins it."))
    with transaction.atomic():
        membership = None
        if accept:
            membership, created = Membership.objects.get_or_create(
                community=community, user=actor, defaults={"role": invitation.role}
            )
            if created:
                _emit_members(community, joined=[actor.pk])
        invitation.delete()
        JoinRequest.objects.filter(community=community, user=actor).delete()
    return membership


def _another_owner(community: Community, person: User) -> bool:
    """Whether someone active besides ``person`` owns the community."""
    owners = community.memberships.filter(role=Role.OWNER, user__is_active=True)
    return owners.exclude(user=person).exists()


def _check_role_grant(actor: User, community: Community, role: str) -> None:
    """Owners grant any role; animators grant member and reader only."""
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    if role in RUNNERS and not access.can(actor, "configure", community):
        raise ServiceError(
            _("Only an owner makes someone an owner or an animator."), code="forbidden"
        )


def _check_runner_change(actor: User, community: Community, membership: Membership) -> None:
    """Only owners change or remove an owner or an animator."""
    if membership.role in RUNNERS and not access.can(actor, "configure", community):
        raise ServiceError(
            _("Only an owner changes or removes an owner or an animator."), code="forbidden"
        )


def role_set(
    *, actor: User, origin: Origin, community: Community, person: User, role: str
) -> Membership:
    _require(access.can(actor, "manage", community))
    membership = community.memberships.filter(user=person).first()
    if membership is None:
        raise ServiceError(_("%(name)s is not a member.") % {"name": person}, field="person")
    _check_role_grant(actor, community, role)
    _check_runner_change(actor, community, membership)
    with transaction.atomic():
        last = membership.role == Role.OWNER and not _another_owner(community, person)
        if last and role != Role.OWNER:
            raise ServiceError(_("A community keeps at least one owner."), field="role")
        changed = membership.role != role
        membership.role = role
        membership.save(update_fields=["role"])
        if changed:
            data = {"community": community.pk, "slug": community.slug, "user": person.pk}
            events.emit("community.role_changed", {**data, "role": role}, community=community)
        audit_record(
            actor=actor,
            action="community.role",
            target=community,
            origin=origin,
            data={"user": person.pk, "role": role},
        )
    return membership


def leave(*, actor: User, community: Community) -> None:
    _require(actor.is_active)
    membership = community.memberships.filter(user=actor).first()
    if membership is None:
        return
    with transaction.atomic():
        if membership.role == Role.OWNER and not _another_owner(community, actor):
            raise ServiceError(
                _("You are its last owner: make someone else an owner before you leave.")
            )
        membership.delete()
        _emit_members(community, left=[actor.pk])


def member_remove(*, actor: User, origin: Origin, community: Community, person: User) -> None:
    _require(access.can(actor, "manage", community))
    membership = community.memberships.filter(user=person).first()
    if membership is None:
        return
    _check_runner_change(actor, community, membership)
    with transaction.atomic():
        if membership.role == Role.OWNER and not _another_owner(community, person):
            raise ServiceError(_("A community keeps at least one owner."))
        membership.delete()
        _emit_members(community, left=[person.pk])
        audit_record(
            actor=actor,
            action="community.remove",
            target=community,
            origin=origin,
            data={"user": person.pk},
        )


# --- Automatic membership ----------------------------------------------------------------


def membership_rule_set(
    *,
    actor: User,
    origin: Origin,
    community: Community,
    org_unit: OrgUnit | None = None,
    site: Site | None = None,
) -> Community:
    """Everyone in this unit (and below) or at this site is a member, kept in sync with
    the directory. Internal communities only: the directory is for employees."""
    _require(access.can(actor, "configure", community))
    if (org_unit or site) and community.visibility == Visibility.EXTERNAL:
        raise ServiceError(_("An external community has no automatic members."))
    community.org_unit, community.site = org_unit, site
    with transaction.atomic():
        community.save(update_fields=["org_unit", "site"])
        sync_rule_members([community.pk])
        audit_record(
            actor=actor,
            action="community.rule",
            target=community,
            origin=origin,
            data={"org_unit": getattr(org_unit, "pk", None), "site": getattr(site, "pk", None)},
        )
    return community


def _rule_place(community: Community, prefix: str = "") -> Q:
    """The profiles a community's rule selects, as a filter (``prefix`` to reach them)."""
    place = Q(pk__in=[])
    if community.org_unit is not None:
        place |= Q(**{f"{prefix}org_unit__path__startswith": community.org_unit.path})
    if community.site_id is not None:
        place |= Q(**{f"{prefix}site_id": community.site_id})
    return place


def sync_rule_members(community_ids: Iterable[int] | None = None) -> None:
    """Bring the rule-made memberships of these communities (all with a rule when None)
    in line with the directory: add the active employees the rule selects, remove the
    rule-made memberships of the others. Memberships people chose are left alone."""
    communities = Community.objects.filter(Q(org_unit__isnull=False) | Q(site__isnull=False))
    if community_ids is not None:
        communities = communities.filter(pk__in=list(community_ids))
    for community in communities.select_related("org_unit"):
        wanted = set(
            Profile.objects.filter(
                _rule_place(community), user__is_active=True, user__kind=UserKind.EMPLOYEE
            ).values_list("user_id", flat=True)
        )
        present = dict(community.memberships.values_list("user_id", "by_rule"))
        added = sorted(wanted - present.keys())
        Membership.objects.bulk_create(
            [Membership(community=community, user_id=pk, by_rule=True) for pk in added]
        )
        gone = [pk for pk, by_rule in present.items() if by_rule and pk not in wanted]
        community.memberships.filter(user_id__in=gone).delete()
        _emit_members(community, joined=added, left=gone)


def sync_people(user_ids: Iterable[int]) -> None:
    """The same for these people only, after their unit, site or account changed (the
    directory's services and the importer call it in their transaction)."""
    ids = list(user_ids)
    ruled = list(
        Community.objects.filter(Q(org_unit__isnull=False) | Q(site__isnull=False)).select_related(
            "org_unit"
        )
    )
    if not ids or not ruled:
        return
    people = User.objects.filter(pk__in=ids, is_active=True, kind=UserKind.EMPLOYEE)
    wanted = {
        (pk, community.pk)
        for community in ruled
        for pk in people.filter(_rule_place(community, "profile__")).values_list("pk", flat=True)
    }
    present = {
        (m.user_id, m.community_id): m.by_rule
        for m in Membership.objects.filter(user_id__in=ids, community__in=ruled)
    }
    added = sorted(wanted - present.keys())
    Membership.objects.bulk_create(
        [Membership(community_id=community, user_id=pk, by_rule=True) for pk, community in added]
    )
    gone = [key for key, by_rule in present.items() if by_rule and key not in wanted]
    for pk, community in gone:
        Membership.objects.filter(user_id=pk, community_id=community).delete()
    for place in ruled:
        _emit_members(
            place,
            joined=[pk for pk, c in added if c == place.pk],
            left=[pk for pk, c in gone if c == place.pk],
        )


# --- Lifecycle ---------------------------------------------------------------------------

REMIND_DAYS = 14  # owners hear of a community's end this many days before it


def lifecycle_run(today: datetime.date) -> tuple[list[int], list[tuple[int, int]]]:
    """Archive the communities whose end date has passed; mark those ending within
    REMIND_DAYS as reminded. Returns the archived ids and the (community, owner) pairs to
    remind; the caller sends the reminders once this transaction is committed."""
    origin = Origin(ip=None, user_agent="essaim lifecycle")
    archived = []
    for community in Community.objects.filter(end_date__lt=today, archived_at__isnull=True):
        community_archive(actor=None, origin=origin, community=community)
        archived.append(community.pk)
    ending = Community.objects.filter(
        end_date__gte=today,
        end_date__lte=today + datetime.timedelta(days=REMIND_DAYS),
        archived_at__isnull=True,
        reminded_at__isnull=True,
    )
    reminders = list(
        Membership.objects.filter(
            community__in=ending, role=Role.OWNER, user__is_active=True
        ).values_list("community_id", "user_id")
    )
    ending.update(reminded_at=timezone.now())
    return archived, reminders

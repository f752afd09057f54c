"""THE authorization policy. Every "may this person see / do this?" is answered here.

Each protected type has one rule, in three forms kept side by side in one class:

- ``can(user, action, obj)``: one object;
- ``visible(user, qs)``: the same rule as a query filter (for "view");
- ``audience(obj)``: the users who may receive the object as an event or notification.

``can_many`` checks a page of objects in one query. ``access_<noun>(user, id)`` fetches
and checks at once, and raises ``NotFound`` alike for missing and forbidden objects, so a
hidden object's existence never shows. tests/test_access.py checks that the three forms
agree for every persona and object; every new protected type joins that test.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet, ObjectDoesNotExist, PermissionDenied
from django.db import connection
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from typing_extensions import TypeIs

from essaim.accounts.models import ApiToken, Role, User, UserKind
from essaim.chat.models import (
    Conversation,
    ConversationKind,
    HelpRequest,
    HelpState,
    IncomingWebhook,
    Message,
    Participant,
)
from essaim.communities.models import (
    RUNNERS,
    WRITERS,
    Community,
    Invitation,
    Membership,
    live_invitations,
)
from essaim.communities.models import Role as CommunityRole
from essaim.communities.models import Visibility as CommunityVisibility
from essaim.content.models import Attachment, Comment, Post, PostKind
from essaim.directory.models import PersonToken, ProfileFieldValue, Visibility
from essaim.directory.models import Profile as DirectoryProfile
from essaim.governance.models import AuditEntry
from essaim.knowledge.models import (
    Answer,
    AnswerComment,
    Article,
    ArticleAuthor,
    ArticleRevision,
    ExpertRequest,
    Question,
    QuestionState,
)
from essaim.notifications.models import (
    TARGET_MODELS,
    Notification,
    PushSubscription,
    target_model,
)
from essaim.realtime.models import Event, EventRecipient
from essaim.search.models import Watch

Viewer = User | AnonymousUser
M = TypeVar("M", bound=Model)

VIEW = "view"
# Communities every employee reads and may join.
OPEN_TO_EMPLOYEES = (CommunityVisibility.PUBLIC, CommunityVisibility.EXTERNAL)


class NotFound(Http404):
    """The object does not exist or the viewer may not know that it does."""


class Forbidden(PermissionDenied):
    """The viewer may see the object but not do this to it."""


def is_active(user: Viewer) -> TypeIs[User]:
    return bool(user.is_authenticated and user.is_active)


def is_admin(user: Viewer) -> bool:
    return is_active(user) and user.is_admin


def has_role(user: Viewer, role: Role) -> bool:
    return is_active(user) and (user.is_admin or user.has_role(role))


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True)


def sees_everyone(user: Viewer) -> bool:
    """Employees and administrators see every person."""
    return is_active(user) and (user.kind == UserKind.EMPLOYEE or user.is_admin)


class Rule(Generic[M]):
    model: ClassVar[type[Model]]
    actions: ClassVar[frozenset[str]]

    def can(self, user: Viewer, action: str, obj: M) -> bool:
        raise NotImplementedError

    def visible(self, user: Viewer, qs: QuerySet[M]) -> QuerySet[M]:
        raise NotImplementedError

    def audience(self, obj: M) -> QuerySet[User]:
        raise NotImplementedError


class UserRule(Rule[User]):
    """People: employees see everyone; an external user sees themselves and the members
    of the external communities they belong to; a bot, the members of its communities.
    "edit_profile": the person, administrators and HR; "edit_org" (job, unit, site,
    manager): administrators and HR; "manage" (accounts, roles): administrators."""

    model = User
    actions = frozenset({VIEW, "manage", "edit_profile", "edit_org"})

    def can(self, user: Viewer, action: str, obj: User) -> bool:
        if not is_active(user):
            return False
        if action == VIEW:
            if sees_everyone(user) or user.pk == obj.pk:
                return True
            return Membership.objects.filter(
                user=obj, community__in=_shared_communities_of(user)
            ).exists()
        if action == "manage":
            return is_admin(user)
        if action == "edit_profile":
            return user.pk == obj.pk or has_role(user, Role.HR)
        if action == "edit_org":
            return has_role(user, Role.HR)
        raise ValueError(f"unknown action {action!r} on users")

    def visible(self, user: Viewer, qs: QuerySet[User]) -> QuerySet[User]:
        if not is_active(user):
            return qs.none()
        if sees_everyone(user):
            return qs
        shared = Membership.objects.filter(
            user=OuterRef("pk"), community__in=_shared_communities_of(user)
        )
        return qs.filter(Q(id=user.id) | Exists(shared))

    def audience(self, obj: User) -> QuerySet[User]:
        shared = Membership.objects.filter(
            user=OuterRef("pk"), community__in=_shared_communities_of(obj)
        )
        return active_users().filter(insiders() | Q(pk=obj.pk) | Exists(shared))


def insiders() -> Q:
    """The users who see every person (employees and administrators), as a filter."""
    return Q(kind=UserKind.EMPLOYEE) | Q(is_admin=True)


def _shared_communities_of(user: User) -> QuerySet[Membership, Any]:
    """The communities whose members a user who does not see everyone sees."""
    mine = Membership.objects.filter(user=user)
    if user.kind != UserKind.BOT:
        mine = mine.filter(community__visibility=CommunityVisibility.EXTERNAL)
    return mine.values("community")


class AuditEntryRule(Rule[AuditEntry]):
    """The audit log: administrators and compliance officers, read only."""

    model = AuditEntry
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: AuditEntry) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on audit entries")
        return has_role(user, Role.COMPLIANCE)

    def visible(self, user: Viewer, qs: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        return qs if has_role(user, Role.COMPLIANCE) else qs.none()

    def audience(self, obj: AuditEntry) -> QuerySet[User]:
        return (
            active_users().filter(Q(is_admin=True) | Q(role_set__role=Role.COMPLIANCE)).distinct()
        )


class ApiTokenRule(Rule[ApiToken]):
    """A token is its owner's alone, even administrators never see it."""

    model = ApiToken
    actions = frozenset({VIEW, "revoke"})

    def can(self, user: Viewer, action: str, obj: ApiToken) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on API tokens")
        return is_active(user) and obj.user_id == user.pk

    def visible(self, user: Viewer, qs: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
        return qs.filter(user=user) if is_active(user) else qs.none()

    def audience(self, obj: ApiToken) -> QuerySet[User]:
        return active_users().filter(pk=obj.user_id)


# --- Profile fields ---------------------------------------------------------------------
# Who reads each part of a profile, beyond the person themself, administrators and HR.
# Custom fields carry their own visibility (ProfileField.visibility).
PROFILE_FIELDS: dict[str, Visibility] = {
    "display_name": Visibility.EVERYONE,
    "photo": Visibility.EVERYONE,
    "job_title": Visibility.EVERYONE,
    "pronouns": Visibility.EVERYONE,
    "presence": Visibility.EVERYONE,
    "org_unit": Visibility.EMPLOYEES,
    "site": Visibility.EMPLOYEES,
    "manager": Visibility.EMPLOYEES,
    "phone": Visibility.EMPLOYEES,
    "mobile_phone": Visibility.EMPLOYEES,
    "email": Visibility.EMPLOYEES,
    "timezone": Visibility.EMPLOYEES,
    "bio": Visibility.EMPLOYEES,
    "topics": Visibility.EMPLOYEES,
    "languages": Visibility.EMPLOYEES,
    "follows": Visibility.EMPLOYEES,
}


def readable_visibilities(user: Viewer, person: User | None = None) -> frozenset[Visibility]:
    """The field visibilities ``user`` reads on ``person``'s profile (on anyone's when
    ``person`` is None), provided ``user`` may see the person at all."""
    if not is_active(user):
        return frozenset()
    if has_role(user, Role.HR) or (person is not None and person.pk == user.pk):
        return frozenset(Visibility)
    if user.kind == UserKind.EMPLOYEE:
        return frozenset({Visibility.EVERYONE, Visibility.EMPLOYEES})
    return frozenset({Visibility.EVERYONE})


def sees_field(user: Viewer, person: User, field: str | Visibility) -> bool:
    """Whether ``user`` reads a profile field of ``person``: a built-in field by name, or
    a custom field by its visibility."""
    visibility = PROFILE_FIELDS[field] if field in PROFILE_FIELDS else Visibility(field)
    return can(user, VIEW, person) and visibility in readable_visibilities(user, person)


class ProfileFieldValueRule(Rule[ProfileFieldValue]):
    """A custom field's value: whoever sees the person and reads the field's visibility."""

    model = ProfileFieldValue
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: ProfileFieldValue) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on profile field values")
        return sees_field(user, obj.user, obj.field.visibility)

    def visible(self, user: Viewer, qs: QuerySet[ProfileFieldValue]) -> QuerySet[ProfileFieldValue]:
        people = RULES[User].visible(user, User.objects.all())
        if not is_active(user):
            return qs.none()
        own = Q(user=user)
        return qs.filter(user__in=people).filter(
            own | Q(field__visibility__in=readable_visibilities(user))
        )

    def audience(self, obj: ProfileFieldValue) -> QuerySet[User]:
        return _field_readers(obj.user, obj.field.visibility)


def _field_readers(person: User, visibility: str) -> QuerySet[User]:
    """Who reads a field of this visibility on ``person``'s profile."""
    readers = RULES[User].audience(person)
    everyone_reads = Q(pk=person.pk) | Q(is_admin=True) | Q(role_set__role=Role.HR)
    if visibility == Visibility.EVERYONE:
        return readers
    if visibility == Visibility.EMPLOYEES:
        return readers.filter(everyone_reads | Q(kind=UserKind.EMPLOYEE)).distinct()
    return readers.filter(everyone_reads).distinct()


class PersonTokenRule(Rule[PersonToken]):
    """A word of the people index matches for whoever sees its person and reads the field
    it comes from. The index holds active people only (directory.index.reindex drops the
    rows of a deactivated person), so the words a viewer who sees everyone may match are
    chosen by their visibility alone, without a check of each person."""

    model = PersonToken
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: PersonToken) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on index words")
        return obj.user.is_active and sees_field(user, obj.user, obj.visibility)

    def visible(self, user: Viewer, qs: QuerySet[PersonToken]) -> QuerySet[PersonToken]:
        if not is_active(user):
            return qs.none()
        qs = qs.filter(Q(visibility__in=readable_visibilities(user)) | Q(user_id=user.pk))
        if sees_everyone(user):
            return qs
        people = RULES[User].visible(user, active_users())
        return qs.filter(Exists(people.filter(pk=OuterRef("user_id"))))

    def audience(self, obj: PersonToken) -> QuerySet[User]:
        if not obj.user.is_active:
            return User.objects.none()
        return _field_readers(obj.user, obj.visibility)


# --- Communities ------------------------------------------------------------------------


def community_role(user: Viewer, community: Community) -> str | None:
    """The viewer's role in the community, None when they are not a member."""
    if not is_active(user):
        return None
    return (
        Membership.objects.filter(user=user, community=community)
        .values_list("role", flat=True)
        .first()
    )


def _invited(user: User, community: Community) -> bool:
    return Invitation.objects.filter(live_invitations(), user=user, community=community).exists()


class CommunityRule(Rule[Community]):
    """Who sees a community, reads its content and acts in it.

    - view (it exists: name, description, owners and animators): employees and
      administrators see every community but the secret ones, which only their members
      and invitees see (anyone else gets the 404 of a community that does not exist); an
      external user sees the external communities they belong to or are invited to, and
      nothing else.
    - read (its content and its members): members; and every employee for public and
      external communities. "join": an employee, for public and external ones; "request":
      an employee, for private ones; both while it is not archived and they are not in.
    - post: owners, animators and members (not readers), while it is not archived.
    - manage (members, invitations, requests): owners and animators, and administrators
      who see it, while it is not archived. configure (settings, archive and restore):
      owners, and administrators who see it."""

    model = Community
    actions = frozenset({VIEW, "read", "join", "request", "post", "manage", "configure"})

    def can(self, user: Viewer, action: str, obj: Community) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on communities")
        if not is_active(user):
            return False
        return self.decide(user, action, obj, community_role(user, obj))

    def decide(self, user: User, action: str, obj: Community, role: str | None) -> bool:
        """``can`` for an active user whose role in the community is known."""
        insider = sees_everyone(user)
        external = obj.visibility == CommunityVisibility.EXTERNAL
        if action == VIEW:
            if not insider:
                return external and (role is not None or _invited(user, obj))
            if obj.visibility == CommunityVisibility.SECRET:
                return role is not None or _invited(user, obj)
            return True
        if action == "read":
            if not insider:
                return external and role is not None
            return role is not None or obj.visibility in OPEN_TO_EMPLOYEES
        if action in ("join", "request"):
            wanted = OPEN_TO_EMPLOYEES if action == "join" else (CommunityVisibility.PRIVATE,)
            return insider and role is None and not obj.archived and obj.visibility in wanted
        if action == "post":
            return role in WRITERS and not obj.archived
        if action == "manage":
            runs = role in RUNNERS or (is_admin(user) and self.decide(user, VIEW, obj, role))
            return runs and not obj.archived
        owner = role == CommunityRole.OWNER
        return owner or (is_admin(user) and self.decide(user, VIEW, obj, role))

    def visible(self, user: Viewer, qs: QuerySet[Community]) -> QuerySet[Community]:
        if not is_active(user):
            return qs.none()
        linked = Q(pk__in=Membership.objects.filter(user=user).values("community")) | Q(
            pk__in=Invitation.objects.filter(live_invitations(), user=user).values("community")
        )
        if sees_everyone(user):
            return qs.filter(~Q(visibility=CommunityVisibility.SECRET) | linked)
        return qs.filter(linked, visibility=CommunityVisibility.EXTERNAL)

    def audience(self, obj: Community) -> QuerySet[User]:
        invited = obj.invitations.filter(live_invitations()).values("user")
        linked = Q(pk__in=obj.memberships.values("user")) | Q(pk__in=invited)
        if obj.visibility == CommunityVisibility.SECRET:
            return active_users().filter(insiders() & linked)
        if obj.visibility == CommunityVisibility.EXTERNAL:
            return active_users().filter(insiders() | linked)
        return active_users().filter(insiders())


def readable_communities(user: Viewer, via: str = "") -> Q:
    """The communities whose content and members ``user`` reads, as a filter on
    communities (CommunityRule's "read"); with ``via`` ("community__"), on what belongs
    to a community — a join to each row's own community, where a subquery listing every
    readable community scanned all of them for one post."""
    if not is_active(user):
        return Q(**{f"{via}pk__in": []})
    mine = Q(**{f"{via}pk__in": Membership.objects.filter(user=user).values("community")})
    if sees_everyone(user):
        return mine | Q(**{f"{via}visibility__in": OPEN_TO_EMPLOYEES})
    return mine & Q(**{f"{via}visibility": CommunityVisibility.EXTERNAL})


def community_readers(community: Community) -> QuerySet[User]:
    """The users who read the community's content (CommunityRule's "read")."""
    members = Q(pk__in=community.memberships.values("user"))
    if community.visibility == CommunityVisibility.PUBLIC:
        return active_users().filter(insiders())
    if community.visibility == CommunityVisibility.EXTERNAL:
        return active_users().filter(insiders() | members)
    return active_users().filter(insiders() & members)


class MembershipRule(Rule[Membership]):
    """Who is in a community: its owners and animators for whoever sees the community
    (they are whom to ask), everyone else for those who read it, and one's own
    membership."""

    model = Membership
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: Membership) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on memberships")
        community = obj.community
        if not can(user, VIEW, community):
            return False
        return obj.role in RUNNERS or obj.user_id == user.pk or can(user, "read", community)

    def visible(self, user: Viewer, qs: QuerySet[Membership]) -> QuerySet[Membership]:
        if not is_active(user):
            return qs.none()
        seen = RULES[Community].visible(user, Community.objects.all())
        read = Community.objects.filter(readable_communities(user))
        return qs.filter(community__in=seen).filter(
            Q(role__in=RUNNERS) | Q(user=user) | Q(community__in=read)
        )

    def audience(self, obj: Membership) -> QuerySet[User]:
        community = obj.community
        if obj.role in RUNNERS:
            return RULES[Community].audience(community)
        viewers = RULES[Community].audience(community)
        return viewers.filter(Q(pk=obj.user_id) | Q(pk__in=community_readers(community)))


# --- Posts -----------------------------------------------------------------------------


def may_publish(
    user: Viewer,
    community: Community | None,
    kind: str = PostKind.POST,
    role: str | bool | None = False,
) -> bool:
    """Whether ``user`` may publish a post of ``kind`` there (and keep editing one: the
    rule is checked again on every edit). In a community: its writers; announcements and
    "must read", its owners and animators. On one's profile: employees. Company
    announcements (no community): the communications role and administrators."""
    if not is_active(user):
        return False
    if community is not None:
        # ``role``: the user's role in the community when the caller knows it already.
        known = community_role(user, community) if role is False else role
        if known is None:
            return False
        if kind == PostKind.ANNOUNCEMENT:  # its own owners and animators, not any admin
            return known in RUNNERS and not community.archived
        rule = RULES[Community]
        assert isinstance(rule, CommunityRule)
        return rule.decide(user, "post", community, str(known))
    if kind == PostKind.ANNOUNCEMENT:
        return has_role(user, Role.COMMUNICATIONS)
    return user.kind == UserKind.EMPLOYEE or user.is_admin


def _unit_and_site(user: User) -> tuple[list[int], int | None]:
    """The org units a person belongs to (their own and every unit above) and their site;
    read once per user object, as its roles are (a page asked up to three times)."""
    known: tuple[list[int], int | None] | None = getattr(user, "_essaim_unit_and_site", None)
    if known is None:
        found = DirectoryProfile.objects.filter(user=user).values_list("org_unit__path", "site_id")
        path, site = found.first() or ("", None)
        known = [int(part) for part in (path or "").strip("/").split("/") if part], site
        user._essaim_unit_and_site = known  # type: ignore[attr-defined]
    return known


def _announcement_reaches(user: User) -> Q:
    """The company announcements meant for ``user``, as a filter on posts: those for
    everyone, for one of their units (or a unit above), for their site; their own; all of
    them for communications."""
    if has_role(user, Role.COMMUNICATIONS):
        return Q(pk__isnull=False)  # all of them (an empty Q() would vanish from an OR)
    units, site = _unit_and_site(user)
    reaches = Q(org_unit__isnull=True, site__isnull=True) | Q(org_unit__in=units) | Q(author=user)
    return reaches | Q(site_id=site) if site is not None else reaches


class PostRule(Rule[Post]):
    """Who reads a post and acts on it, from where it was posted, decided at the moment
    of reading (a post follows its community when it turns private or secret):

    - view: in a community, whoever reads the community; on a profile, employees and
      administrators; a company announcement, the employees of its org unit (or a unit
      below) or site, or all of them, plus its author and the communications role.
      Deleted posts: nobody.
    - edit: the author, while they may still publish it there (may_publish).
    - delete: the author, the community's owners and animators, moderators,
      administrators; company announcements, the communications role too.
    - comment: viewers who may post in the community, or every employee in a public or
      external one (as they may join it); viewers who are employees elsewhere.
    - react, vote: viewers. No comment, reaction or vote in an archived community.
    - pin, track (who read, who acknowledged, reminders): the community's owners and
      animators; the author on their profile; communications for company announcements;
      the author of an announcement tracks it too."""

    model = Post
    actions = frozenset({VIEW, "edit", "delete", "comment", "react", "vote", "pin", "track"})

    def can(self, user: Viewer, action: str, obj: Post) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on posts")
        if not is_active(user) or obj.deleted_at is not None or not self._sees(user, obj):
            return False
        role = community_role(user, obj.community) if obj.community is not None else None
        return self._decide(user, action, obj, role)

    def permissions(self, user: Viewer, posts: Sequence[Post]) -> dict[int, frozenset[str]]:
        """What ``user`` may do to each post of a page, in one query: ``can`` for every
        action, for posts already read through ``visible``."""
        if not is_active(user):
            return {p.pk: frozenset() for p in posts}
        ids = {p.community_id for p in posts if p.community_id is not None}
        roles = dict(
            Membership.objects.filter(user=user, community_id__in=ids).values_list(
                "community_id", "role"
            )
        )
        return {
            p.pk: frozenset(
                a for a in self.actions if self._decide(user, a, p, roles.get(p.community_id or 0))
            )
            for p in posts
        }

    def _decide(self, user: User, action: str, obj: Post, role: str | None) -> bool:
        """``can`` for a post the user reads, knowing their role in its community."""
        community = obj.community
        rule = RULES[Community]
        assert isinstance(rule, CommunityRule)
        if action == VIEW:
            return True
        if action == "edit":
            return obj.author_id == user.pk and may_publish(user, community, obj.kind, role)
        if action == "delete":
            return (
                obj.author_id == user.pk
                or has_role(user, Role.MODERATOR)
                or self._decide(user, "pin", obj, role)
            )
        if community is not None and community.archived:
            return False
        if action == "comment":
            if community is None:
                return sees_everyone(user)
            open_to_me = community.visibility in OPEN_TO_EMPLOYEES and sees_everyone(user)
            return open_to_me or rule.decide(user, "post", community, role)
        if action in ("react", "vote"):
            return True
        if action == "track" and obj.author_id == user.pk and obj.kind == PostKind.ANNOUNCEMENT:
            return True
        if community is not None:
            return rule.decide(user, "manage", community, role)
        if obj.kind == PostKind.ANNOUNCEMENT:
            return has_role(user, Role.COMMUNICATIONS)
        return obj.author_id == user.pk

    def _sees(self, user: User, obj: Post) -> bool:
        if obj.community is not None:
            return can(user, "read", obj.community)
        if not sees_everyone(user):
            return False
        if obj.kind != PostKind.ANNOUNCEMENT:
            return True
        return Post.objects.filter(_announcement_reaches(user), pk=obj.pk).exists()

    def visible(self, user: Viewer, qs: QuerySet[Post]) -> QuerySet[Post]:
        if not is_active(user):
            return qs.none()
        qs = qs.filter(deleted_at__isnull=True)
        in_communities = readable_communities(user, via="community__")
        if not sees_everyone(user):
            return qs.filter(in_communities)
        company = Q(community__isnull=True) & (
            ~Q(kind=PostKind.ANNOUNCEMENT) | _announcement_reaches(user)
        )
        return qs.filter(in_communities | company)

    def audience(self, obj: Post) -> QuerySet[User]:
        if obj.deleted_at is not None:
            return User.objects.none()
        if obj.community is not None:
            return community_readers(obj.community)
        everyone = active_users().filter(insiders())
        if obj.kind != PostKind.ANNOUNCEMENT or (obj.org_unit_id is None and obj.site_id is None):
            return everyone
        reached = Q(pk=obj.author_id) | Q(role_set__role=Role.COMMUNICATIONS) | Q(is_admin=True)
        if obj.org_unit is not None:
            reached |= Q(profile__org_unit__path__startswith=obj.org_unit.path)
        if obj.site_id is not None:
            reached |= Q(profile__site_id=obj.site_id)
        return everyone.filter(reached).distinct()


class CommentRule(Rule[Comment]):
    """A comment is read by whoever reads its post, while neither is deleted. Its author
    edits it while they may still comment; its author, and whoever may delete the post,
    delete it."""

    model = Comment
    actions = frozenset({VIEW, "edit", "delete", "react"})

    def can(self, user: Viewer, action: str, obj: Comment) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on comments")
        if obj.deleted_at is not None or not can(user, VIEW, obj.post):
            return False
        assert isinstance(user, User)
        on_post = RULES[Post]
        assert isinstance(on_post, PostRule)
        post_allowed = on_post.permissions(user, [obj.post])[obj.post.pk]
        return self._decide(user, action, obj, post_allowed)

    def permissions(
        self, user: Viewer, comments: Sequence[Comment], post_allowed: frozenset[str]
    ) -> dict[int, frozenset[str]]:
        """``can`` for each comment of one post read through ``visible``, knowing what
        the user may do to the post (PostRule.permissions): no query."""
        if not is_active(user):
            return {c.pk: frozenset() for c in comments}
        return {
            c.pk: frozenset(a for a in self.actions if self._decide(user, a, c, post_allowed))
            for c in comments
        }

    def _decide(self, user: User, action: str, obj: Comment, post_allowed: frozenset[str]) -> bool:
        if action == VIEW:
            return True
        if action == "edit":
            return obj.author_id == user.pk and "comment" in post_allowed
        if action == "delete":
            return obj.author_id == user.pk or "delete" in post_allowed
        return "react" in post_allowed

    def visible(self, user: Viewer, qs: QuerySet[Comment]) -> QuerySet[Comment]:
        posts = RULES[Post].visible(user, Post.objects.all())
        return qs.filter(deleted_at__isnull=True, post__in=posts)

    def audience(self, obj: Comment) -> QuerySet[User]:
        if obj.deleted_at is not None:
            return User.objects.none()
        return RULES[Post].audience(obj.post)


class AttachmentRule(Rule[Attachment]):
    """A file is read by whoever reads the post, comment, question, answer or chat message
    it is attached to, checked at every download; before it is attached, by its uploader alone."""

    model = Attachment
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: Attachment) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on files")
        if not is_active(user):
            return False
        holder = attachment_holder(obj)
        if holder is not None:
            return can(user, VIEW, holder)
        return obj.uploader_id == user.pk

    def visible(self, user: Viewer, qs: QuerySet[Attachment]) -> QuerySet[Attachment]:
        if not is_active(user):
            return qs.none()
        posts = RULES[Post].visible(user, Post.objects.all())
        comments = RULES[Comment].visible(user, Comment.objects.all())
        questions = RULES[Question].visible(user, Question.objects.all())
        answers = RULES[Answer].visible(user, Answer.objects.all())
        messages = RULES[Message].visible(user, Message.objects.all())
        return qs.filter(
            Q(post__in=posts, comment__isnull=True)
            | Q(comment__in=comments)
            | Q(question__in=questions, answer__isnull=True)
            | Q(answer__in=answers)
            | Q(message__in=messages)
            | Q(Attachment.UNATTACHED, uploader=user)
        )

    def audience(self, obj: Attachment) -> QuerySet[User]:
        holder = attachment_holder(obj)
        if holder is not None:
            return RULES[type(holder)].audience(holder)
        return active_users().filter(pk=obj.uploader_id)


def attachment_holder(obj: Attachment) -> Comment | Post | Answer | Question | Message | None:
    """What a file is attached to: the comment or answer rather than its post or question."""
    return obj.comment or obj.post or obj.answer or obj.question or obj.message


# --- Questions and answers -------------------------------------------------------------


def may_ask(user: Viewer, community: Community | None, role: str | bool | None = False) -> bool:
    """Whether ``user`` may ask a question there (and keep editing it): in a community,
    its writers while it is not archived (customers in an external one included);
    company-wide, employees. ``role``: the user's role there, when the caller knows it."""
    if not is_active(user):
        return False
    if community is None:
        return sees_everyone(user)
    known = community_role(user, community) if role is False else role
    rule = RULES[Community]
    assert isinstance(rule, CommunityRule)
    return rule.decide(user, "post", community, None if known is None else str(known))


def _readable_place(user: User, via: str = "") -> Q:
    """What ``user`` reads of what lives in a community or, without one, company-wide
    (questions, articles), as a filter (``via``: the path to the object)."""
    in_communities = readable_communities(user, via=f"{via}community__")
    if not sees_everyone(user):
        return in_communities
    return in_communities | Q(**{f"{via}community__isnull": True})


def _reads_place(user: User, community: Community | None, role: str | None) -> bool:
    """``_readable_place`` for one object, knowing the user's role in its community."""
    if community is None:
        return sees_everyone(user)
    rule = RULES[Community]
    assert isinstance(rule, CommunityRule)
    return rule.decide(user, "read", community, role)


def _readable_questions(user: User, via: str = "") -> Q:
    """The questions ``user`` reads, as a filter (``via``: the path to the question)."""
    return Q(**{f"{via}deleted_at__isnull": True}) & _readable_place(user, via)


class QuestionRule(Rule[Question]):
    """Who reads a question and acts on it, from where it was asked, decided at the moment
    of reading:

    - view: in a community, whoever reads the community; company-wide, employees and
      administrators. Deleted questions: nobody.
    - edit: the author while they may still ask there, and the community's owners and
      animators (who curate it). delete: those, moderators and administrators.
    - answer (and comment on answers): company-wide, employees; in a community, whoever
      may post there, and every employee in a public or external one (as they may join
      it). Not once closed as a duplicate.
    - accept (an answer), close (as a duplicate, or reopen): the author and the
      community's owners and animators.
    Nothing but reading in an archived community."""

    model = Question
    actions = frozenset({VIEW, "edit", "delete", "answer", "accept", "close"})

    def can(self, user: Viewer, action: str, obj: Question) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on questions")
        if not is_active(user) or obj.deleted_at is not None:
            return False
        role = community_role(user, obj.community) if obj.community is not None else None
        if not _reads_place(user, obj.community, role):
            return False
        return self.decide(user, action, obj, role)

    def decide(self, user: User, action: str, obj: Question, role: str | None) -> bool:
        """``can`` for a question the user reads, knowing their role in its community."""
        community = obj.community
        if action == VIEW:
            return True
        runs = community is not None and role in RUNNERS
        if action == "delete":
            return obj.author_id == user.pk or runs or has_role(user, Role.MODERATOR)
        if community is not None and community.archived:
            return False
        if action == "edit":
            return runs or (obj.author_id == user.pk and may_ask(user, community, role))
        if action == "answer":
            if obj.state == QuestionState.DUPLICATE:
                return False
            if community is None:
                return sees_everyone(user)
            open_to_me = community.visibility in OPEN_TO_EMPLOYEES and sees_everyone(user)
            return open_to_me or may_ask(user, community, role)
        return obj.author_id == user.pk or runs  # accept, close

    def visible(self, user: Viewer, qs: QuerySet[Question]) -> QuerySet[Question]:
        if not is_active(user):
            return qs.none()
        return qs.filter(_readable_questions(user))

    def audience(self, obj: Question) -> QuerySet[User]:
        if obj.deleted_at is not None:
            return User.objects.none()
        if obj.community is not None:
            return community_readers(obj.community)
        return active_users().filter(insiders())


class AnswerRule(Rule[Answer]):
    """An answer is read by whoever reads its question, while neither is deleted.

    - edit: its author while they may answer the question. delete: its author, and
      whoever may delete the question.
    - vote (up or down): readers, but not on their own answer; not in an archived
      community. comment: whoever may answer the question."""

    model = Answer
    actions = frozenset({VIEW, "edit", "delete", "vote", "comment"})

    def can(self, user: Viewer, action: str, obj: Answer) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on answers")
        if obj.deleted_at is not None or not can(user, VIEW, obj.question):
            return False
        assert isinstance(user, User)
        return self.decide(user, action, obj, question_permissions(user, obj.question))

    def permissions(
        self, user: Viewer, answers: Sequence[Answer], asked: frozenset[str]
    ) -> dict[int, frozenset[str]]:
        """``can`` for each answer of one question read through ``visible``, knowing what
        the user may do to the question (``asked``): no query."""
        if not is_active(user) or VIEW not in asked:
            return {a.pk: frozenset() for a in answers}
        return {
            a.pk: frozenset(x for x in self.actions if self.decide(user, x, a, asked))
            for a in answers
        }

    def decide(self, user: User, action: str, obj: Answer, asked: frozenset[str]) -> bool:
        if action == VIEW:
            return True
        if action == "edit":
            return obj.author_id == user.pk and "answer" in asked
        if action == "delete":
            return obj.author_id == user.pk or "delete" in asked
        if action == "comment":
            return "answer" in asked
        community = obj.question.community
        archived = community is not None and community.archived
        return obj.author_id != user.pk and not archived  # vote

    def visible(self, user: Viewer, qs: QuerySet[Answer]) -> QuerySet[Answer]:
        if not is_active(user):
            return qs.none()
        return qs.filter(Q(deleted_at__isnull=True) & _readable_questions(user, "question__"))

    def audience(self, obj: Answer) -> QuerySet[User]:
        if obj.deleted_at is not None:
            return User.objects.none()
        return RULES[Question].audience(obj.question)


class AnswerCommentRule(Rule[AnswerComment]):
    """A comment under an answer is read by whoever reads the answer; its author and
    whoever may delete the answer delete it."""

    model = AnswerComment
    actions = frozenset({VIEW, "delete"})

    def can(self, user: Viewer, action: str, obj: AnswerComment) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on answer comments")
        if obj.deleted_at is not None or not can(user, VIEW, obj.answer):
            return False
        assert isinstance(user, User)
        return action == VIEW or obj.author_id == user.pk or can(user, "delete", obj.answer)

    def visible(self, user: Viewer, qs: QuerySet[AnswerComment]) -> QuerySet[AnswerComment]:
        if not is_active(user):
            return qs.none()
        readable = Q(answer__deleted_at__isnull=True) & _readable_questions(
            user, "answer__question__"
        )
        return qs.filter(Q(deleted_at__isnull=True) & readable)

    def audience(self, obj: AnswerComment) -> QuerySet[User]:
        if obj.deleted_at is not None:
            return User.objects.none()
        return RULES[Answer].audience(obj.answer)


class ExpertRequestRule(Rule[ExpertRequest]):
    """A request for someone's answer is seen by that person and by whoever asked them,
    while they read the question."""

    model = ExpertRequest
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: ExpertRequest) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on expert requests")
        if not is_active(user) or user.pk not in (obj.expert_id, obj.requested_by_id):
            return False
        return can(user, VIEW, obj.question)

    def visible(self, user: Viewer, qs: QuerySet[ExpertRequest]) -> QuerySet[ExpertRequest]:
        if not is_active(user):
            return qs.none()
        involved = Q(expert=user) | Q(requested_by=user)
        return qs.filter(involved & _readable_questions(user, "question__"))

    def audience(self, obj: ExpertRequest) -> QuerySet[User]:
        readers = RULES[Question].audience(obj.question)
        return readers.filter(pk__in=[obj.expert_id, obj.requested_by_id])


def is_article_author(user: Viewer, article: Article) -> bool:
    return is_active(user) and article.author_links.filter(user=user).exists()


class ArticleRule(Rule[Article]):
    """Who reads an article or a case study and acts on it:

    - view: once published, whoever reads where it lives (a community's readers, or every
      employee company-wide); a draft, its authors alone (while they read there too).
      Deleted: nobody.
    - edit, publish, authors (add co-authors), review (set the review date): its authors
      while they may write there, and the community's owners and animators (who curate).
    - delete: the author who created it, the community's owners and animators,
      moderators and administrators.
    - feedback ("was this useful?"): readers of a published article who did not write it.
    Nothing but reading in an archived community."""

    model = Article
    actions = frozenset({VIEW, "edit", "publish", "authors", "review", "delete", "feedback"})

    def can(self, user: Viewer, action: str, obj: Article) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on articles")
        if not is_active(user) or obj.deleted_at is not None:
            return False
        community = obj.community
        role = community_role(user, community) if community is not None else None
        if not _reads_place(user, community, role):
            return False
        author = is_article_author(user, obj)
        if obj.published_at is None and not author:
            return False
        return self.decide(user, action, obj, role, author)

    def decide(self, user: User, action: str, obj: Article, role: str | None, author: bool) -> bool:
        """``can`` for an article the user reads, knowing their role and authorship."""
        community = obj.community
        runs = community is not None and role in RUNNERS
        if action == VIEW:
            return True
        if action == "delete":
            return obj.created_by_id == user.pk or runs or has_role(user, Role.MODERATOR)
        if community is not None and community.archived:
            return False
        if action == "feedback":
            return obj.published_at is not None and not author
        return runs or (author and may_ask(user, community, role))

    def visible(self, user: Viewer, qs: QuerySet[Article]) -> QuerySet[Article]:
        if not is_active(user):
            return qs.none()
        mine = ArticleAuthor.objects.filter(user=user).values("article")
        shown = Q(published_at__isnull=False) | Q(pk__in=mine)
        return qs.filter(Q(deleted_at__isnull=True) & _readable_place(user) & shown)

    def audience(self, obj: Article) -> QuerySet[User]:
        if obj.deleted_at is not None:
            return User.objects.none()
        if obj.community is not None:
            readers = community_readers(obj.community)
        else:
            readers = active_users().filter(insiders())
        if obj.published_at is None:
            return readers.filter(pk__in=obj.author_links.values("user"))
        return readers


class ArticleRevisionRule(Rule[ArticleRevision]):
    """An article's revisions are read by whoever reads the article."""

    model = ArticleRevision
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: ArticleRevision) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on article revisions")
        return can(user, VIEW, obj.article)

    def visible(self, user: Viewer, qs: QuerySet[ArticleRevision]) -> QuerySet[ArticleRevision]:
        articles = RULES[Article].visible(user, Article.objects.all())
        return qs.filter(article__in=articles)

    def audience(self, obj: ArticleRevision) -> QuerySet[User]:
        return RULES[Article].audience(obj.article)


# --- Events ----------------------------------------------------------------------------


# --- Chat -----------------------------------------------------------------------------------


class ConversationRule(Rule[Conversation]):
    """Who reads a conversation and writes in it, decided at every check:

    - view (its messages and who is in it): a direct or group conversation's
      participants, while they have not left; a community channel's members (any role),
      while they are members — not the community's other readers.
    - post: those; in a channel, the community's writers while it is not archived; in a
      direct conversation, while the other person is still active.
    - manage (rename, add people) and leave: a group's participants.
    - webhooks (incoming webhooks of a channel): the community's owners and animators,
      while it is not archived. A live webhook's bot posts in its channel (and reads
      nothing).
    - A help request's conversation: its asker, and every helper of its desk (the rota
      sees the queue); post: the asker and, once a helper claimed it, that helper, until
      it is resolved."""

    model = Conversation
    actions = frozenset({VIEW, "post", "manage", "leave", "webhooks"})

    def can(self, user: Viewer, action: str, obj: Conversation) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on conversations")
        if not is_active(user):
            return False
        if obj.kind == ConversationKind.CHANNEL:
            assert obj.community is not None
            role = community_role(user, obj.community)
            if action == VIEW:
                return role is not None
            if action == "post":
                if role is None and user.kind == UserKind.BOT:
                    hook = IncomingWebhook.objects.filter(bot=user, revoked_at__isnull=True)
                    live = hook.filter(conversation=obj).exists()
                    role = CommunityRole.MEMBER if live else None
                rule = RULES[Community]
                assert isinstance(rule, CommunityRule)
                return rule.decide(user, "post", obj.community, role)
            if action == "webhooks":
                return role in RUNNERS and not obj.community.archived
            return False
        if obj.kind == ConversationKind.HELP:
            request = obj.help_request
            if action == VIEW:
                mine = user.pk in (request.asker_id, request.claimed_by_id)
                return mine or is_helper(user, request)
            if action == "post":
                writers = {request.asker_id, request.claimed_by_id}
                return user.pk in writers and request.state == HelpState.CLAIMED
            return False
        if obj.kind == ConversationKind.DIRECT:
            # Both of its people in one read: whether the user is one, and the other active.
            pair = dict(obj.participants.values_list("user_id", "user__is_active"))
            if action == VIEW or user.pk not in pair:
                return user.pk in pair
            return action == "post" and any(on for pk, on in pair.items() if pk != user.pk)
        inside = obj.participants.filter(user=user, left_at__isnull=True).exists()
        if action == VIEW or not inside:
            return inside
        if action == "post":
            return True
        return action in ("manage", "leave") and obj.kind == ConversationKind.GROUP

    def visible(self, user: Viewer, qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
        if not is_active(user):
            return qs.none()
        mine = Participant.objects.filter(user=user, left_at__isnull=True).values("conversation")
        communities = Membership.objects.filter(user=user).values("community")
        helping = HelpRequest.objects.filter(desk__helpers=user).values("conversation")
        return qs.filter(
            (Q(pk__in=mine) & ~Q(kind=ConversationKind.CHANNEL))
            | Q(kind=ConversationKind.CHANNEL, community__in=communities)
            | Q(kind=ConversationKind.HELP, pk__in=helping)
        )

    def audience(self, obj: Conversation) -> QuerySet[User]:
        if obj.kind == ConversationKind.CHANNEL:
            assert obj.community is not None
            return active_users().filter(pk__in=obj.community.memberships.values("user"))
        inside = Q(pk__in=obj.participants.filter(left_at__isnull=True).values("user"))
        if obj.kind == ConversationKind.HELP:
            inside |= Q(pk__in=obj.help_request.desk.helpers.values("pk"))
        return active_users().filter(inside)


def shows_read_receipts(user: Viewer, conversation: Conversation) -> bool:
    """Whether read receipts show to ``user`` in a conversation they read: one-to-one, or
    a group of at most CHAT_RECEIPTS_MAX people, and only while ``user`` shares theirs
    (whoever turns them off neither shows nor sees them; the selector keeps those)."""
    if not (is_active(user) and user.read_receipts and can(user, VIEW, conversation)):
        return False
    if conversation.kind == ConversationKind.DIRECT:
        return True
    if conversation.kind == ConversationKind.GROUP:
        inside = conversation.participants.filter(left_at__isnull=True)
        return inside.count() <= settings.CHAT_RECEIPTS_MAX
    return False


def is_helper(user: Viewer, request: HelpRequest) -> bool:
    return is_active(user) and request.desk.helpers.filter(pk=user.pk).exists()


class HelpRequestRule(Rule[HelpRequest]):
    """A help request is seen with its conversation. claim: a helper of its desk while it
    waits; resolve: its asker or the helper who claimed it, until resolved; rate: its
    asker, once resolved."""

    model = HelpRequest
    actions = frozenset({VIEW, "claim", "resolve", "rate"})

    def can(self, user: Viewer, action: str, obj: HelpRequest) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on help requests")
        if not is_active(user):
            return False
        if action == VIEW:
            return can(user, VIEW, obj.conversation)
        if action == "claim":
            return obj.state == HelpState.WAITING and is_helper(user, obj)
        if action == "resolve":
            mine = user.pk in (obj.asker_id, obj.claimed_by_id)
            return mine and obj.state != HelpState.RESOLVED
        return obj.asker_id == user.pk and obj.state == HelpState.RESOLVED

    def visible(self, user: Viewer, qs: QuerySet[HelpRequest]) -> QuerySet[HelpRequest]:
        readable = RULES[Conversation].visible(user, Conversation.objects.all())
        return qs.filter(conversation__in=readable)

    def audience(self, obj: HelpRequest) -> QuerySet[User]:
        return RULES[Conversation].audience(obj.conversation)


class MessageRule(Rule[Message]):
    """A message is read by whoever reads its conversation, until it is deleted.

    - edit: its author while they may post in the conversation.
    - delete: its author; in a channel, the community's owners and animators too.
    - react, pin (and unpin): whoever may post in the conversation.
    - forward elsewhere: whoever reads it, unless it is in the channel of a confidential
      community (what is said there stays there)."""

    model = Message
    actions = frozenset({VIEW, "edit", "delete", "react", "pin", "forward"})

    def can(self, user: Viewer, action: str, obj: Message) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on messages")
        if not is_active(user) or obj.deleted_at is not None:
            return False
        conversation = obj.conversation
        community = conversation.community
        if action == "forward" and community is not None and community.confidential:
            return False
        if action in (VIEW, "forward"):
            return can(user, VIEW, conversation)
        if action in ("react", "pin"):
            return can(user, "post", conversation)
        if action == "edit":
            return obj.author_id == user.pk and can(user, "post", conversation)
        if obj.author_id == user.pk:
            return can(user, VIEW, conversation)
        return community is not None and community_role(user, community) in RUNNERS

    def visible(self, user: Viewer, qs: QuerySet[Message]) -> QuerySet[Message]:
        if not is_active(user):
            return qs.none()
        readable = RULES[Conversation].visible(user, Conversation.objects.all())
        return qs.filter(deleted_at__isnull=True, conversation__in=readable)

    def audience(self, obj: Message) -> QuerySet[User]:
        if obj.deleted_at is not None:
            return User.objects.none()
        return RULES[Conversation].audience(obj.conversation)


class EventRule(Rule[Event]):
    """An event of the real-time stream goes to the readers of its community, or to every
    employee and administrator when it is for ``everyone``, narrowed to its named
    recipients when it has any; an event with neither goes to its named recipients only.
    Checked again at every delivery, so someone who lost access gets nothing more,
    whatever was true when the event was written."""

    model = Event
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: Event) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on events")
        if not is_active(user):
            return False
        named = obj.recipients.exists()
        if named and not obj.recipients.filter(user=user).exists():
            return False
        if obj.everyone:
            return sees_everyone(user)
        if obj.community is None:
            return named
        return can(user, "read", obj.community)

    def visible(self, user: Viewer, qs: QuerySet[Event]) -> QuerySet[Event]:
        if not is_active(user):
            return qs.none()
        named = Exists(EventRecipient.objects.filter(event=OuterRef("pk")))
        addressed = Exists(EventRecipient.objects.filter(event=OuterRef("pk"), user=user))
        readable = Community.objects.filter(readable_communities(user))
        to_all = Q(everyone=True) if sees_everyone(user) else Q(pk__in=[])
        return qs.filter(
            (Q(community__isnull=True, everyone=False) & addressed)
            | ((Q(community__in=readable) | to_all) & (~named | addressed))
        )

    def audience(self, obj: Event) -> QuerySet[User]:
        named = obj.recipients.values("user")
        if obj.everyone:
            readers = active_users().filter(insiders())
        elif obj.community is None:
            return active_users().filter(pk__in=named)
        else:
            readers = community_readers(obj.community)
        return readers.filter(pk__in=named) if obj.recipients.exists() else readers

    def audiences_among(self, events: list[Event], among: Collection[int]) -> dict[int, set[int]]:
        """``audience`` for a batch of events at once, limited to the users ``among``
        (those connected to a process): a few queries per batch, and only the queries of
        communities carry the whole of ``among``."""
        among = set(among)
        named: dict[int, set[int]] = {e.pk: set() for e in events}
        active: set[int] = set()  # the named who are active (one read with the names)
        recipients = EventRecipient.objects.filter(event__in=events)
        for event_id, user_id, on in recipients.values_list(
            "event_id", "user_id", "user__is_active"
        ):
            named[event_id].add(user_id)
            if on:
                active.add(user_id)
        readers: dict[int | None, set[int]] = {}
        found = {}
        for event in events:
            community = event.community
            if community is None and not event.everyone:
                found[event.pk] = named[event.pk] & active & among
                continue
            key = community.pk if community is not None else None
            if key not in readers:
                everyone = active_users().filter(insiders())
                audience = community_readers(community) if community is not None else everyone
                readers[key] = set(audience.filter(pk__in=among).values_list("pk", flat=True))
            allowed = readers[key]
            found[event.pk] = allowed & named[event.pk] if named[event.pk] else set(allowed)
        return found


class WatchRule(Rule[Watch]):
    """Who sees a keyword watch (its matches, subscribers and discussion) and acts on it:

    - view, subscribe, comment: a personal watch, its owner; a shared one, every employee;
      one a community hosts, whoever reads the community. Each match is shown only to
      those who may see the matched thing itself.
    - manage (edit, delete): its owner, and the community's owners and animators for one
      it hosts, while they see it."""

    model = Watch
    actions = frozenset({VIEW, "subscribe", "comment", "manage"})

    def can(self, user: Viewer, action: str, obj: Watch) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on watches")
        if not is_active(user):
            return False
        if obj.community is not None:
            sees = can(user, "read", obj.community)
        else:
            sees = obj.owner_id == user.pk or (obj.shared and sees_everyone(user))
        if not sees or action != "manage":
            return sees
        runs = obj.community is not None and community_role(user, obj.community) in RUNNERS
        return obj.owner_id == user.pk or runs

    def visible(self, user: Viewer, qs: QuerySet[Watch]) -> QuerySet[Watch]:
        if not is_active(user):
            return qs.none()
        hosted = Q(community__in=Community.objects.filter(readable_communities(user)))
        own = Q(owner=user, community__isnull=True)
        if sees_everyone(user):
            own |= Q(shared=True, community__isnull=True)
        return qs.filter(own | hosted)

    def audience(self, obj: Watch) -> QuerySet[User]:
        if obj.community is not None:
            return community_readers(obj.community)
        if obj.shared:
            return active_users().filter(insiders() | Q(pk=obj.owner_id))
        return active_users().filter(pk=obj.owner_id)


class NotificationRule(Rule[Notification]):
    """A notification is its recipient's alone, and shown or sent only while they may
    still see what it is about: someone who left the community, lost the conversation
    or was deactivated is told nothing more of it, whatever was true when it was made."""

    model = Notification
    actions = frozenset({VIEW})

    def can(self, user: Viewer, action: str, obj: Notification) -> bool:
        if action != VIEW:
            raise ValueError(f"unknown action {action!r} on notifications")
        if not is_active(user) or obj.user_id != user.pk:
            return False
        model = target_model(obj.target_type)
        target = model._default_manager.filter(pk=obj.target_id).first()
        return target is not None and can(user, VIEW, target)

    def visible(self, user: Viewer, qs: QuerySet[Notification]) -> QuerySet[Notification]:
        if not is_active(user):
            return qs.none()
        readable = Q(pk__in=[])
        for target_type in TARGET_MODELS:
            seen = visible(user, target_model(target_type)._default_manager.all())
            readable |= Q(target_type=target_type, target_id__in=seen.values("pk"))
        return qs.filter(readable, user=user)

    def audience(self, obj: Notification) -> QuerySet[User]:
        recipient = active_users().filter(pk=obj.user_id).first()
        if recipient is None or not self.can(recipient, VIEW, obj):
            return User.objects.none()
        return User.objects.filter(pk=recipient.pk)


class PushSubscriptionRule(Rule[PushSubscription]):
    """A device's push subscription is its owner's alone, while they are active."""

    model = PushSubscription
    actions = frozenset({VIEW, "delete"})

    def can(self, user: Viewer, action: str, obj: PushSubscription) -> bool:
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r} on push subscriptions")
        return is_active(user) and obj.user_id == user.pk

    def visible(self, user: Viewer, qs: QuerySet[PushSubscription]) -> QuerySet[PushSubscription]:
        return qs.filter(user=user) if is_active(user) else qs.none()

    def audience(self, obj: PushSubscription) -> QuerySet[User]:
        return active_users().filter(pk=obj.user_id)


RULES: dict[type[Model], Rule[Any]] = {
    rule.model: rule
    for rule in (
        UserRule(),
        AuditEntryRule(),
        ApiTokenRule(),
        ProfileFieldValueRule(),
        PersonTokenRule(),
        CommunityRule(),
        MembershipRule(),
        PostRule(),
        CommentRule(),
        AttachmentRule(),
        QuestionRule(),
        AnswerRule(),
        AnswerCommentRule(),
        ExpertRequestRule(),
        ArticleRule(),
        ArticleRevisionRule(),
        ConversationRule(),
        MessageRule(),
        HelpRequestRule(),
        EventRule(),
        WatchRule(),
        NotificationRule(),
        PushSubscriptionRule(),
    )
}


def _rule(model: type[Model]) -> Rule[Any]:
    try:
        return RULES[model]
    except KeyError:
        raise LookupError(f"no access rule for {model.__name__}") from None


def can(user: Viewer, action: str, obj: Model) -> bool:
    return _rule(type(obj)).can(user, action, obj)


def visible(user: Viewer, qs: QuerySet[M]) -> QuerySet[M]:
    return _rule(qs.model).visible(user, qs)


def audience(obj: Model) -> QuerySet[User]:
    return _rule(type(obj)).audience(obj)


def community_posts(user: Viewer, community: Community) -> QuerySet[Post]:
    """``visible(user, Post.objects.filter(community=community))`` as a simpler query for a
    community's feed: its posts when the user reads it, none otherwise (PostRule: a post
    in a community is read by whoever reads the community)."""
    if not can(user, "read", community):
        return Post.objects.none()
    return Post.objects.filter(community=community, deleted_at__isnull=True)


def event_audiences(events: list[Event], among: Collection[int]) -> dict[int, set[int]]:
    """Who among ``among`` may receive each event now (EventRule, for a batch)."""
    rule = RULES[Event]
    assert isinstance(rule, EventRule)
    return rule.audiences_among(events, among)


def community_permissions(
    user: Viewer, community: Community, actions: Iterable[str]
) -> tuple[str | None, dict[str, bool]]:
    """The viewer's role in the community and ``can`` for each action, reading the role
    once (a community page asks for six actions)."""
    role = community_role(user, community)
    rule = RULES[Community]
    assert isinstance(rule, CommunityRule)
    if not is_active(user):
        return None, dict.fromkeys(actions, False)
    return role, {action: rule.decide(user, action, community, role) for action in actions}


def question_permissions(
    user: Viewer, question: Question, role: str | bool | None = False
) -> frozenset[str]:
    """What ``user`` may do to a question, reading their role once (``can`` for each
    action); ``role``: their role in its community, when the caller knows it."""
    if not is_active(user) or question.deleted_at is not None:
        return frozenset()
    if role is False:
        role = community_role(user, question.community) if question.community else None
    role = None if role is None else str(role)
    if not _reads_place(user, question.community, role):
        return frozenset()
    rule = RULES[Question]
    assert isinstance(rule, QuestionRule)
    return frozenset(a for a in rule.actions if rule.decide(user, a, question, role))


def article_permissions(user: Viewer, article: Article) -> frozenset[str]:
    """What ``user`` may do to an article, reading role and authorship once (``can`` for
    each action)."""
    if not is_active(user) or article.deleted_at is not None:
        return frozenset()
    role = community_role(user, article.community) if article.community else None
    author = is_article_author(user, article)
    if not _reads_place(user, article.community, role) or not (article.published or author):
        return frozenset()
    rule = RULES[Article]
    assert isinstance(rule, ArticleRule)
    return frozenset(a for a in rule.actions if rule.decide(user, a, article, role, author))


def answer_permissions(
    user: Viewer, answers: Sequence[Answer], asked: frozenset[str]
) -> dict[int, frozenset[str]]:
    """What ``user`` may do to each answer of a question, knowing ``asked``, what they
    may do to the question (question_permissions)."""
    rule = RULES[Answer]
    assert isinstance(rule, AnswerRule)
    return rule.permissions(user, answers, asked)


def post_permissions(user: Viewer, posts: Sequence[Post]) -> dict[int, frozenset[str]]:
    """What ``user`` may do to each post of a page read through ``visible``."""
    rule = RULES[Post]
    assert isinstance(rule, PostRule)
    return rule.permissions(user, posts)


def comment_permissions(
    user: Viewer, comments: Sequence[Comment], post_allowed: frozenset[str]
) -> dict[int, frozenset[str]]:
    """What ``user`` may do to each comment of a post, given what they may do to it."""
    rule = RULES[Comment]
    assert isinstance(rule, CommentRule)
    return rule.permissions(user, comments, post_allowed)


def can_many(user: Viewer, objs: Iterable[M]) -> dict[Any, bool]:
    """ "view" for a page of objects of one type, in one query."""
    objs = list(objs)
    if not objs:
        return {}
    model = type(objs[0])
    pks = [o.pk for o in objs]
    seen = set(
        visible(user, model._default_manager.filter(pk__in=pks)).values_list("pk", flat=True)
    )
    return {pk: pk in seen for pk in pks}


def _fetch(user: Viewer, qs: QuerySet[M], pk: object, action: str, *, by_row: bool = False) -> M:
    """The object ``pk`` of ``qs`` if ``user`` sees it (NotFound otherwise) and may do
    ``action`` to it (Forbidden otherwise); ``by_row``: read it, then ask ``can``."""
    try:
        obj = (qs if by_row else visible(user, qs)).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound from None
    if by_row and not can(user, VIEW, obj):
        raise NotFound
    if action != VIEW and not can(user, action, obj):
        raise Forbidden
    return obj


def access_user(user: Viewer, user_id: object, action: str = VIEW) -> User:
    return _fetch(user, User.objects.all(), user_id, action)


def access_api_token(user: Viewer, token_id: object, action: str = VIEW) -> ApiToken:
    return _fetch(user, ApiToken.objects.all(), token_id, action)


def access_audit_entry(user: Viewer, entry_id: object) -> AuditEntry:
    return _fetch(user, AuditEntry.objects.all(), entry_id, VIEW)


def access_community(user: Viewer, community_id: object, action: str = VIEW) -> Community:
    return _fetch(user, Community.objects.all(), community_id, action)


def access_post(user: Viewer, post_id: object, action: str = VIEW) -> Post:
    return _fetch(user, Post.objects.select_related("community"), post_id, action)


def access_comment(user: Viewer, comment_id: object, action: str = VIEW) -> Comment:
    return _fetch(user, Comment.objects.select_related("post__community"), comment_id, action)


def access_question(user: Viewer, question_id: object, action: str = VIEW) -> Question:
    return _fetch(user, Question.objects.select_related("community"), question_id, action)


def access_answer(user: Viewer, answer_id: object, action: str = VIEW) -> Answer:
    qs = Answer.objects.select_related("question__community")
    return _fetch(user, qs, answer_id, action)


def access_article(user: Viewer, article_id: object, action: str = VIEW) -> Article:
    return _fetch(user, Article.objects.select_related("community"), article_id, action)


def access_conversation(user: Viewer, conversation_id: object, action: str = VIEW) -> Conversation:
    # Checked row by row: half the time of the visible() filter's subqueries on every
    # message sent (the three forms agree: tests/test_chat).
    found = Conversation.objects.select_related("community")
    return _fetch(user, found, conversation_id, action, by_row=True)


def access_help_request(user: Viewer, request_id: object, action: str = VIEW) -> HelpRequest:
    found = HelpRequest.objects.select_related("conversation", "desk")
    return _fetch(user, found, request_id, action)


def access_message(user: Viewer, message_id: object, action: str = VIEW) -> Message:
    return _fetch(
        user, Message.objects.select_related("conversation__community"), message_id, action
    )


def access_attachment(user: Viewer, attachment_id: object) -> Attachment:
    return _fetch(user, Attachment.objects.all(), attachment_id, VIEW)


def access_community_by_slug(user: Viewer, slug: str, action: str = VIEW) -> Community:
    """By its address: a secret community answers as one that does not exist."""
    found = visible(user, Community.objects.filter(slug=str(slug)[:100])).first()
    if found is None:
        raise NotFound
    if action != VIEW and not can(user, action, found):
        raise Forbidden
    return found


# --- Search ---------------------------------------------------------------------------------
# The search index stores with each document the keys of who may find it, naming the place
# that decides (a community, a conversation, a unit), never a decision: whoever reads that
# place is worked out from the database at every search (``search_keys``), so a change of
# membership or of a community's visibility shows at once, without touching the index.
# One exception, a community's own document: every employee views a community that is
# not secret, so its key is "employees" rather than one of thousands of `cv` keys that
# each employee would send with every search. So a community made secret is written to
# the index in the transaction that hides it (``search.services.changed``, at_once).
# Only what its rule lets someone view is indexed (no deleted item, no draft); the
# test that the forms agree (tests/test_search_access.py) covers the keys too.


def search_keys_of(obj: Model) -> list[str]:
    """The keys of whoever may find ``obj`` in a search: one of them must be the
    searcher's (``search_keys``)."""
    if isinstance(obj, Comment):
        return search_keys_of(obj.post)
    if isinstance(obj, Attachment):
        holder = attachment_holder(obj)
        return search_keys_of(holder) if holder is not None else []
    if isinstance(obj, Answer):
        return search_keys_of(obj.question)
    if isinstance(obj, Community):
        if obj.visibility == CommunityVisibility.SECRET:
            return [f"cv{obj.pk}"]
        if obj.visibility == CommunityVisibility.EXTERNAL:  # and its external members
            return ["employees", f"cv{obj.pk}"]
        return ["employees"]
    if isinstance(obj, Message):
        conversation = obj.conversation
        if conversation.kind == ConversationKind.CHANNEL:
            return [f"m{conversation.community_id}"]
        return [f"v{conversation.pk}"]
    if isinstance(obj, Post | Question | Article):
        if obj.community_id is not None:
            return [f"c{obj.community_id}"]
        if not isinstance(obj, Post) or obj.kind != PostKind.ANNOUNCEMENT:
            return ["employees"]
        if obj.org_unit_id is None and obj.site_id is None:
            return ["employees"]
        keys = ["announcements", f"p{obj.author_id}"]
        if obj.org_unit_id is not None:
            keys.append(f"u{obj.org_unit_id}")
        if obj.site_id is not None:
            keys.append(f"s{obj.site_id}")
        return keys
    raise LookupError(f"{type(obj).__name__} is not searched")


# The keys the documents of each kind may carry (``search_keys_of``), by their letters.
_POSTED = frozenset({"c", "employees", "announcements", "p", "u", "s"})
_KEY_FAMILIES: dict[str, frozenset[str]] = {
    "community": frozenset({"cv", "employees"}),
    "post": _POSTED,
    "comment": _POSTED,
    "question": frozenset({"c", "employees"}),
    "answer": frozenset({"c", "employees"}),
    "article": frozenset({"c", "employees"}),
    "message": frozenset({"m", "v"}),
}


def _families(kinds: list[str] | None) -> frozenset[str] | None:
    """The key families the documents of ``kinds`` may carry; None: every family (any
    kind, or one not listed: files are held by any of them)."""
    if not kinds or any(kind not in _KEY_FAMILIES for kind in kinds):
        return None
    return frozenset().union(*(_KEY_FAMILIES[kind] for kind in kinds))


def search_keys_for(keys: list[str], kinds: list[str] | None) -> list[str]:
    """Of a searcher's keys (``search_keys``), those the documents of ``kinds`` may carry:
    the others name places whose documents number in the millions (the engine reads their
    lists to filter), and an employee holds thousands (the `c` keys of every community
    open to employees)."""
    families = _families(kinds)
    if families is None:
        return keys
    return [key for key in keys if key.rstrip("0123456789") in families]


def _column(rows: QuerySet[Any]) -> list[Any]:
    """A one-column ``values_list``, fetched at once: Django's row iterator costs a
    microsecond a row, 8 ms of every search for an employee's 7,000 keys."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def search_keys(user: Viewer, kinds: list[str] | None = None) -> list[str]:
    """The keys of what ``user`` may find (see ``search_keys_of``); of things of ``kinds``
    only, when given (the queries of the other keys are not run: suggestions want those
    of communities and questions)."""
    if not is_active(user):
        return []
    families = _families(kinds)

    def wanted(family: str) -> bool:
        return families is None or family in families

    communities = Community.objects.all()
    keys = [f"p{user.pk}"] if wanted("p") else []
    if wanted("c"):
        read = communities.filter(readable_communities(user)).values_list("pk")
        keys += [f"c{pk}" for pk in _column(read)]
    if wanted("cv"):  # the communities an employee views but for the "employees" key
        viewed = RULES[Community].visible(user, communities)
        if sees_everyone(user):
            viewed = viewed.filter(visibility=CommunityVisibility.SECRET)
        keys += [f"cv{pk}" for pk in _column(viewed.values_list("pk"))]
    if wanted("m"):
        member = Membership.objects.filter(user=user).values_list("community")
        keys += [f"m{pk}" for pk in _column(member)]
    if wanted("v"):
        conversations = RULES[Conversation].visible(user, Conversation.objects.all())
        talks = conversations.exclude(kind=ConversationKind.CHANNEL).values_list("pk")
        keys += [f"v{pk}" for pk in _column(talks)]
    if sees_everyone(user):
        if wanted("employees"):
            keys.append("employees")
        if wanted("announcements") and has_role(user, Role.COMMUNICATIONS):
            keys.append("announcements")
        if wanted("u") or wanted("s"):
            units, site = _unit_and_site(user)
            keys += [f"u{unit}" for unit in units]
            if site is not None:
                keys.append(f"s{site}")
    return keys


def access_watch(user: Viewer, watch_id: object, action: str = VIEW) -> Watch:
    return _fetch(user, Watch.objects.select_related("community", "owner"), watch_id, action)


def readable_notifications(user: Viewer, rows: Sequence[Notification]) -> list[Notification]:
    """Those of ``rows`` that ``user`` may see (NotificationRule), a query per type of
    target among them rather than one per row: the digests' bulk form."""
    if not is_active(user):
        return []
    seen: set[tuple[str, int]] = set()
    for target_type in {r.target_type for r in rows}:
        ids = [r.target_id for r in rows if r.target_type == target_type]
        found = visible(user, target_model(target_type)._default_manager.filter(pk__in=ids))
        seen |= {(target_type, pk) for pk in found.values_list("pk", flat=True)}
    return [r for r in rows if r.user_id == user.pk and (r.target_type, r.target_id) in seen]


def access_notification(user: Viewer, notification_id: object) -> Notification:
    return _fetch(user, Notification.objects.all(), notification_id, VIEW)


def access_push_subscription(user: Viewer, subscription_id: object) -> PushSubscription:
    return _fetch(user, PushSubscription.objects.all(), subscription_id, VIEW)

"""Every read of communities: from access.visible, so a list, a count or a search never
holds a community the viewer may not see."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When

from essaim import access
from essaim.accounts.models import User
from essaim.directory.models import Follow, Profile, ProfileTopic, TopicKind

from .models import (
    RUNNERS,
    Community,
    Invitation,
    JoinRequest,
    Membership,
    Role,
    live_invitations,
)

PAGE_SIZE = 24
NEAR_PEOPLE = 300  # colleagues and follows a suggestion looks at
SCOPES = ("mine", "suggested", "all")


def communities(viewer: access.Viewer) -> QuerySet[Community]:
    return access.visible(viewer, Community.objects.all())


def mine(viewer: access.Viewer) -> QuerySet[Community]:
    """The communities the viewer is in (archived ones too)."""
    memberships = Membership.objects.filter(user_id=viewer.pk or 0).values("community")
    return communities(viewer).filter(pk__in=memberships)


def _with_counts(viewer: access.Viewer, found: QuerySet[Community]) -> QuerySet[Community]:
    """Each with its number of members and the viewer's role (None when not in)."""
    mine = Membership.objects.filter(community=OuterRef("pk"), user_id=viewer.pk or 0)
    members = (
        Membership.objects.filter(community=OuterRef("pk"), user__is_active=True)
        .order_by()
        .values("community")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return found.annotate(my_role=Subquery(mine.values("role")[:1]), member_count=Subquery(members))


@dataclass
class CommunityPage:
    results: list[Community]
    total: int
    scope: str


def browse(
    viewer: access.Viewer,
    *,
    scope: str = "mine",
    text: str = "",
    archived: bool = False,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> CommunityPage:
    """The viewer's communities, suggestions for them, or every community they see;
    ``text`` looks in names, descriptions and tags; archived ones only on request (and in
    "mine", where they stay findable)."""
    if scope == "suggested":
        return _suggested(viewer, limit)
    found = mine(viewer) if scope == "mine" else communities(viewer)
    if not archived:
        found = found.filter(archived_at__isnull=True)
    text = text.strip()[:100]
    if text:
        found = found.filter(
            Q(name__icontains=text) | Q(description__icontains=text) | Q(tags__icontains=text)
        )
    total = found.count()
    page = list(_with_counts(viewer, found).order_by("name", "pk")[offset : offset + limit])
    return CommunityPage(page, total, scope)


def _suggested(viewer: access.Viewer, limit: int) -> CommunityPage:
    """Communities the viewer is not in, where the people near them are (colleagues of
    their unit and site; the people they follow count double) and whose tags name their
    skills and areas of expertise."""
    if not isinstance(viewer, User):
        return CommunityPage([], 0, "suggested")
    unit, site = Profile.objects.filter(user=viewer).values_list("org_unit", "site").first() or (
        None,
        None,
    )
    near = Q(org_unit=unit) if unit else Q(pk__in=[])
    if site:
        near |= Q(site=site)
    colleagues = list(
        Profile.objects.filter(near, user__is_active=True)
        .exclude(user=viewer)
        .values_list("user_id", flat=True)[:NEAR_PEOPLE]
    )
    followed = list(
        Follow.objects.filter(follower=viewer).values_list("followed_id", flat=True)[:NEAR_PEOPLE]
    )
    open_to_me = (
        communities(viewer)
        .filter(archived_at__isnull=True)
        .exclude(pk__in=Membership.objects.filter(user=viewer).values("community"))
    )
    weight: dict[int, int] = {}
    for people, points in ((colleagues, 1), (followed, 2)):
        # Only memberships the viewer may see: who is in a private community is for its
        # readers, and a ranking would tell it.
        near_memberships = Membership.objects.filter(user_id__in=people, community__in=open_to_me)
        rows = (
            access.visible(viewer, near_memberships)
            .values_list("community")
            .annotate(n=Count("pk"))
        )
        for community_id, n in rows:
            weight[community_id] = weight.get(community_id, 0) + points * n
    topics = ProfileTopic.objects.filter(
        user=viewer, kind__in=(TopicKind.SKILL, TopicKind.EXPERTISE)
    )
    tagged = Q(pk__in=[])
    for name in topics.values_list("topic__name", flat=True)[:10]:
        tagged |= Q(tags__icontains=name.lower())
    for community_id in open_to_me.filter(tagged).values_list("pk", flat=True)[:NEAR_PEOPLE]:
        weight[community_id] = weight.get(community_id, 0) + 5
    best = sorted(weight, key=lambda pk: -weight[pk])[:limit]
    by_id = {c.pk: c for c in _with_counts(viewer, Community.objects.filter(pk__in=best))}
    return CommunityPage([by_id[pk] for pk in best if pk in by_id], len(best), "suggested")


@dataclass
class CommunityView:
    """A community as one viewer may see it and act on it."""

    community: Community
    role: str | None
    can: dict[str, bool]
    runners: list[Membership]  # owners and animators, shown to whoever sees the community
    member_count: int
    invitation: Invitation | None
    requested: bool
    pending_requests: int
    members: list[Membership] = field(default_factory=list)


def community_view(viewer: access.Viewer, community: Community) -> CommunityView:
    """``community`` comes from access.access_community* (the viewer sees it)."""
    role, can = access.community_permissions(
        viewer, community, ("read", "join", "request", "post", "manage", "configure")
    )
    memberships = access.visible(
        viewer, community.memberships.filter(user__is_active=True).select_related("user__profile")
    )
    runners = list(memberships.filter(role__in=RUNNERS).order_by("role", "user__display_name"))
    return CommunityView(
        community=community,
        role=role,
        can=can,
        runners=runners,
        member_count=community.memberships.filter(user__is_active=True).count(),
        invitation=my_invitations(viewer).filter(community=community).first(),
        requested=community.join_requests.filter(user_id=viewer.pk or 0).exists(),
        # Counted for everyone (a fixed number of queries), shown to those who manage.
        pending_requests=community.join_requests.count() * can["manage"],
    )


ROLE_ORDER = Case(
    *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values)),
    default=Value(len(Role.values)),
)


def roles(viewer: access.Viewer, communities: list[Community]) -> dict[int, str]:
    """The viewer's role in each of ``communities`` they are in, in one query."""
    found = Membership.objects.filter(user_id=viewer.pk or 0, community__in=communities)
    return dict(found.values_list("community_id", "role"))


def visible_members(viewer: access.Viewer, community: Community) -> QuerySet[Membership]:
    """The memberships of active people that the viewer may see, in no order."""
    return access.visible(viewer, community.memberships.filter(user__is_active=True))


def members(
    viewer: access.Viewer,
    community: Community,
    *,
    offset: int = 0,
    limit: int = 100,
    runners: bool = True,
) -> list[Membership]:
    """The active members the viewer may see: owners, animators (unless ``runners`` is
    False), members, readers, by name."""
    found = visible_members(viewer, community).select_related("user__profile__org_unit")
    if not runners:
        found = found.exclude(role__in=RUNNERS)
    return list(found.order_by(ROLE_ORDER, "user__display_name", "pk")[offset : offset + limit])


def join_requests(viewer: access.Viewer, community: Community) -> QuerySet[JoinRequest]:
    if not access.can(viewer, "manage", community):
        return JoinRequest.objects.none()
    return community.join_requests.select_related("user").order_by("created_at")


def invitations(viewer: access.Viewer, community: Community) -> QuerySet[Invitation]:
    """Pending invitations, for those who manage the members."""
    if not access.can(viewer, "manage", community):
        return Invitation.objects.none()
    live = community.invitations.filter(live_invitations())
    return live.select_related("user").order_by("-created_at")


def my_invitations(viewer: access.Viewer) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        live_invitations(), user_id=viewer.pk or 0, community__in=communities(viewer)
    ).select_related("community", "invited_by")

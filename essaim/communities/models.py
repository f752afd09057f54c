"""Communities: where work happens. Who sees a community and what they may do in it is
decided by access.CommunityRule from its visibility, its state and the viewer's
membership or invitation; nothing here decides it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NAME_MAX = 100
SLUG_MAX = 60
TEXT_MAX = 5000
TAG_MAX = 40
TAGS_MAX = 10


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: every employee sees it and may join")
    PRIVATE = "private", _("Private: listed; content for members, who join on request")
    SECRET = "secret", _("Secret: only its members know it exists")
    EXTERNAL = "external", _("External: employees and invited customers")


class Kind(models.TextChoices):
    PRACTICE = "practice", _("Community of practice")
    PROJECT = "project", _("Project")
    TRADE = "trade", _("Trade")
    REGION = "region", _("Region or site")
    CUSTOMER = "customer", _("Customers")
    HELP = "help", _("Help")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    """From most to least: an owner configures, an animator runs the members and the
    content, a member takes part, a reader reads."""

    OWNER = "owner", _("Owner")
    ANIMATOR = "animator", _("Animator")
    MEMBER = "member", _("Member")
    READER = "reader", _("Reader")


RUNNERS = (Role.OWNER, Role.ANIMATOR)  # they manage the members
WRITERS = (Role.OWNER, Role.ANIMATOR, Role.MEMBER)


class Community(models.Model):
    name = models.CharField(max_length=NAME_MAX)
    slug = models.SlugField(max_length=SLUG_MAX, unique=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    # Content stays out of e-mail and push bodies and of previews; a banner says so.
    confidential = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(blank=True, default="")
    rules = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    cover = models.CharField(max_length=32, blank=True, default="")  # directory.photos name
    # A project community ends: it is archived on that day, its owners reminded before.
    end_date = models.DateField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Automatic membership: everyone in this unit (and below) or at this site is a member.
    org_unit = models.ForeignKey(
        "directory.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site = models.ForeignKey(
        "directory.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility=Visibility.PUBLIC) | Q(confidential=False),
                name="community_public_not_confidential",
            )
        ]
        indexes = [models.Index(fields=["visibility", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class Membership(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # Added by the community's unit or site rule: the rule removes it when the person
    # leaves the unit or site, never a membership someone chose.
    by_rule = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="membership_once")
        ]
        indexes = [models.Index(fields=["user", "community", "role"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.community_id} ({self.role})"


INVITATION_DAYS = 30


def live_invitations() -> Q:
    """Invitations still good, as a filter: younger than INVITATION_DAYS, from an inviter
    whose account is active (an invitation dies with its inviter)."""
    since = timezone.now() - timedelta(days=INVITATION_DAYS)
    return Q(created_at__gte=since, invited_by__is_active=True)


class Invitation(models.Model):
    """Asked to join; the person accepts or declines, and sees the community meanwhile
    (while the invitation is live: see live_invitations)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="invitation_once")
        ]
        indexes = [models.Index(fields=["user", "community"])]

    def __str__(self) -> str:
        return f"{self.user_id} invited to {self.community_id}"


class JoinRequest(models.Model):
    """Asked to join a private community; its owners and animators approve or decline."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="join_request_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} asks to join {self.community_id}"

"""Directory (annuaire): the organisation people belong to, their profiles, skills and
expertise, custom fields, endorsements and follows, and the name index that search uses.

Trees are stored with a materialised path ("/1/4/9/": the ids from the root down to the
row itself) so that a manager chain, an org unit's ancestors or everything below a unit
is one indexed query on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TEXT_MAX = 150
BIO_MAX = 2000
TOKEN_MAX = 64


class Visibility(models.TextChoices):
    """Who may read a profile field (the person, administrators and HR always may)."""

    EVERYONE = "everyone", _("Everyone who can see the person")
    EMPLOYEES = "employees", _("Employees only")
    ADMINS = "admins", _("Administrators and HR only")


class OrgUnit(models.Model):
    """A department, service or team; ``parent`` makes the tree."""

    name = models.CharField(max_length=TEXT_MAX)
    # The HR system's identifier, which imports match on; blank for units made by hand.
    code = models.CharField(max_length=64, blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=1000, default="", db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="orgunit_code")
        ]

    def __str__(self) -> str:
        return self.name

    def ancestor_ids(self) -> list[int]:
        """From the root down to the parent."""
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]


class Site(models.Model):
    name = models.CharField(max_length=TEXT_MAX, unique=True)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="FR")  # ISO 3166-1 alpha-2
    timezone = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return self.name


class Availability(models.TextChoices):
    """What the person chose; "online" or "offline" comes from their connections."""

    AUTO = "auto", _("Automatic")
    AWAY = "away", _("Away")
    DO_NOT_DISTURB = "dnd", _("Do not disturb")


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    job_title = models.CharField(max_length=TEXT_MAX, blank=True, default="")
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="direct_reports",
    )
    # The user ids of the manager chain from the top down to this person, "/1/7/42/".
    manager_path = models.CharField(max_length=1000, default="", db_index=True)
    phone = models.CharField(max_length=40, blank=True, default="")
    mobile_phone = models.CharField(max_length=40, blank=True, default="")
    timezone = models.CharField(max_length=64, blank=True, default="")
    pronouns = models.CharField(max_length=40, blank=True, default="")
    bio = models.TextField(max_length=BIO_MAX, blank=True, default="")
    # Stored photo file name (never the uploaded name); empty without a photo.
    photo = models.CharField(max_length=100, blank=True, default="")
    availability = models.CharField(
        max_length=8, choices=Availability.choices, default=Availability.AUTO
    )
    status_text = models.CharField(max_length=100, blank=True, default="")
    status_until = models.DateTimeField(null=True, blank=True)
    # The display name without accents or case, for sorting by name in any language
    # (kept by directory.index with the rest of the search data).
    sort_name = models.CharField(max_length=150, default="", db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} — {self.job_title}"

    @property
    def status_expired(self) -> bool:
        """A status set "until" a time that has passed no longer applies."""
        return self.status_until is not None and self.status_until <= timezone.now()

    @property
    def current_availability(self) -> str:
        return Availability.AUTO if self.status_expired else self.availability

    @property
    def current_status_text(self) -> str:
        return "" if self.status_expired else self.status_text

    def manager_ids(self) -> list[int]:
        """The manager chain from the top down to the direct manager."""
        return [int(part) for part in self.manager_path.strip("/").split("/") if part][:-1]


class Topic(models.Model):
    """A subject people know, work on or care about ("Python", "Droit social"). Skills,
    expertise, interests, projects and "ask me about" share one vocabulary."""

    name = models.CharField(max_length=80)
    key = models.CharField(max_length=80, unique=True)  # directory.text.normalize(name)

    def __str__(self) -> str:
        return self.name


class TopicKind(models.TextChoices):
    SKILL = "skill", _("Skill")
    EXPERTISE = "expertise", _("Area of expertise")
    INTEREST = "interest", _("Interest")
    PROJECT = "project", _("Project")
    ASK_ME_ABOUT = "ask", _("Ask me about")


class SkillLevel(models.IntegerChoices):
    BEGINNER = 1, _("Beginner")
    INTERMEDIATE = 2, _("Intermediate")
    ADVANCED = 3, _("Advanced")
    EXPERT = 4, _("Expert")


class ProfileTopic(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topics"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="holders")
    kind = models.CharField(max_length=10, choices=TopicKind.choices)
    level = models.PositiveSmallIntegerField(choices=SkillLevel.choices, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "topic", "kind"], name="profiletopic_once"),
            models.CheckConstraint(
                condition=Q(kind="skill", level__isnull=False) | (~Q(kind="skill") & Q(level=None)),
                name="profiletopic_level_for_skills",
            ),
        ]
        indexes = [models.Index(fields=["topic", "kind"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.topic_id}"


class LanguageLevel(models.TextChoices):
    NATIVE = "native", _("Native")
    FLUENT = "fluent", _("Fluent")
    WORKING = "working", _("Working knowledge")
    BASIC = "basic", _("Basic")


class SpokenLanguage(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spoken_languages"
    )
    language = models.CharField(max_length=8)  # ISO 639-1 code, from directory.text.LANGUAGES
    level = models.CharField(max_length=8, choices=LanguageLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "language"], name="spokenlanguage_once")
        ]
        indexes = [models.Index(fields=["language"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.language} ({self.level})"


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    CHOICE = "choice", _("Choice")
    LINK = "link", _("Link")
    DATE = "date", _("Date")


class ProfileField(models.Model):
    """A profile field an administrator adds ("Badge number", "Certifications"…)."""

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=FieldKind.choices)
    choices = models.JSONField(default=list, blank=True)  # for kind "choice"
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.EMPLOYEES
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class ProfileFieldValue(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="field_values"
    )
    field = models.ForeignKey(ProfileField, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "field"], name="profilefieldvalue_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.field_id}"


class Endorsement(models.Model):
    """A colleague vouches for one of a person's skills."""

    endorser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="endorsements_given"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="endorsements"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="endorsements")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endorser", "person", "topic"], name="endorsement_once"
            ),
            models.CheckConstraint(condition=~Q(endorser=F("person")), name="endorsement_other"),
        ]
        indexes = [models.Index(fields=["person", "topic"])]

    def __str__(self) -> str:
        return f"{self.endorser_id} endorses {self.person_id} for {self.topic_id}"


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following"
    )
    followed = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followed"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followed")), name="follow_other"),
        ]
        indexes = [models.Index(fields=["followed", "follower"])]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followed_id}"


class PersonToken(models.Model):
    """The search index of people: one row per word of a person's name, title, topics
    and custom fields (normalised: lower case, no accents). ``weight`` ranks where the
    word came from; ``visibility`` keeps a word of an employees-only field from matching
    for an external viewer."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_tokens"
    )
    token = models.CharField(max_length=TOKEN_MAX)
    weight = models.PositiveSmallIntegerField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    # The person's Profile.sort_name again, so that ranking needs no join.
    sort_name = models.CharField(max_length=150, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token", "visibility"], name="persontoken_once")
        ]
        # Covering: a search reads its rows from the index alone.
        indexes = [models.Index(fields=["token", "user", "weight", "visibility", "sort_name"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.token}"


class VariantKind(models.TextChoices):
    PREFIX = "p", "prefix"
    DELETION = "d", "deletion"


class TokenVariant(models.Model):
    """The index's vocabulary, looked up by equality only (the same on every database
    and collation): every prefix of each word, for search as you type, and every
    one-letter deletion, so that a word one typo away is found (symmetric-delete
    spelling correction)."""

    variant = models.CharField(max_length=TOKEN_MAX)
    kind = models.CharField(max_length=1, choices=VariantKind.choices)
    token = models.CharField(max_length=TOKEN_MAX)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "kind", "token"], name="tokenvariant_once")
        ]

    def __str__(self) -> str:
        return f"{self.variant} → {self.token}"

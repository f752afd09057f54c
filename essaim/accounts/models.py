"""Accounts: people who sign in, their global roles, sessions and API tokens."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EMAIL_MAX = 254
NAME_MAX = 150


class UserKind(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    EXTERNAL = "external", _("External")
    # A program with API tokens (chat's bots and incoming webhooks): never signs in,
    # sees nobody's directory, reads and posts only where it was invited.
    BOT = "bot", _("Bot")


class Role(models.TextChoices):
    """Global governance roles; community roles live in the communities app."""

    MODERATOR = "moderator", _("Moderator / referent")
    COMPLIANCE = "compliance", _("Compliance officer")
    HR = "hr", _("Human resources")
    COMMUNICATIONS = "communications", _("Communications")


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


def normalize_email(email: str) -> str:
    return email.strip().lower()


class User(AbstractBaseUser):
    # Stored lower-cased (normalize_email), which makes uniqueness case-insensitive.
    email = models.EmailField(_("e-mail"), max_length=EMAIL_MAX, unique=True)
    display_name = models.CharField(_("display name"), max_length=NAME_MAX)
    kind = models.CharField(max_length=16, choices=UserKind.choices, default=UserKind.EMPLOYEE)
    is_active = models.BooleanField(default=True)
    is_admin = models.BooleanField(_("administrator"), default=False)
    # Empty: follow the browser's Accept-Language.
    language = models.CharField(max_length=8, blank=True, default="")
    # Chat's read receipts: shown to others, and others' shown, only while this is on.
    read_receipts = models.BooleanField(_("share read receipts"), default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        # "Is this person active?" for thousands of people at once (a search checks every
        # person it finds) reads this small index instead of the whole table.
        indexes = [models.Index(fields=["id"], condition=Q(is_active=True), name="user_active")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_external(self) -> bool:
        return self.kind == UserKind.EXTERNAL

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.role_set.values_list("role", flat=True))

    def has_role(self, role: Role) -> bool:
        return role in self.roles


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_set")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint("user", "role", name="user_role_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role}"


class UserSession(models.Model):
    """Which sessions belong to whom, so that deactivation can end them all at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")

    def __str__(self) -> str:
        return f"session of {self.user_id}"


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "read-write", _("Read and write")


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is kept; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)  # shown in lists so people recognise a token
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=16, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

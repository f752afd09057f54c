"""Every write to accounts. Services check permission, write in one transaction and
leave an audit entry for administrative actions."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from essaim import access
from essaim.directory import index as directory_index
from essaim.directory.models import Profile
from essaim.governance.services import audit_record
from essaim.http import CLI, Origin

from .models import (
    ApiToken,
    Role,
    TokenScope,
    User,
    UserKind,
    UserRole,
    UserSession,
    normalize_email,
)
from .tasks import send_password_link
from .throttle import login_throttle

TOKEN_PREFIX = "ess_"  # noqa: S105  (a marker, not a secret)


class ServiceError(Exception):
    """Bad input or a forbidden change; ``field`` names the input at fault."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field: str | None = None,
        retry_after: int | None = None,  # seconds, for code "throttled"
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.retry_after = retry_after


def clean_text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    """Text from a service's caller, trimmed, of at most ``limit`` characters; a
    ServiceError on ``field`` otherwise. Every app's services use it."""
    if not isinstance(value, str):
        raise ServiceError(_("This field must be text."), field=field)
    # NUL has no meaning in text, and PostgreSQL refuses it: dropped, not a server error.
    value = value.replace("\x00", "").strip()
    if required and not value:
        raise ServiceError(_("This field is required."), field=field)
    if len(value) > limit:
        raise ServiceError(_("At most %(limit)d characters.") % {"limit": limit}, field=field)
    return value


def _require(allowed: bool) -> None:
    if not allowed:
        raise access.Forbidden


def _clean_display_name(name: str) -> str:
    """Trimmed; refused when it has no visible character (only spaces or zero-width
    marks, which would make a person impossible to tell apart) or a control character."""
    name = name.strip()
    categories = [unicodedata.category(char) for char in name]
    if "Cc" in categories:
        raise ServiceError(
            _("A display name cannot contain control characters."), field="display_name"
        )
    if not any(category[0] in "LNPS" for category in categories):
        raise ServiceError(_("A display name is required."), field="display_name")
    return name


def user_create(
    *,
    actor: User | None,
    origin: Origin,
    email: str,
    display_name: str,
    password: str | None = None,
    kind: UserKind = UserKind.EMPLOYEE,
    is_admin: bool = False,
    language: str = "",
) -> User:
    """Create an account. ``actor`` None means the command line (no permission check)."""
    if actor is not None:
        _require(access.is_admin(actor))
    if kind == UserKind.BOT:  # chat's bot_create makes them, with what a bot needs
        raise ServiceError(_("Make bots on the bots page."), field="kind")
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError(_("Enter a valid e-mail address."), field="email") from exc
    display_name = _clean_display_name(display_name)
    if password is not None:
        _validate_password(password, User(email=email, display_name=display_name))
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                password,
                display_name=display_name,
                kind=kind,
                is_admin=is_admin,
                language=language,
            )
            # Everyone has a profile and is findable from the start.
            Profile.objects.create(user=user, manager_path=f"/{user.pk}/")
            directory_index.reindex([user.pk])
            audit_record(
                actor=actor,
                action="user.create",
                target=user,
                origin=origin,
                data={"kind": kind, "is_admin": is_admin},
            )
            if password is None and actor is not None:
                # Queued in the same transaction: no invitation for an account that
                # was not created, no account created without its invitation.
                send_password_link.enqueue(
                    email=user.email, language=language or actor.language, purpose="invitation"
                )
    except IntegrityError as exc:
        raise ServiceError(
            _("An account with this e-mail exists."), code="conflict", field="email"
        ) from exc
    return user


def user_update_self(
    *,
    user: User,
    display_name: str | None = None,
    language: str | None = None,
    read_receipts: bool | None = None,
) -> User:
    if display_name is not None:
        user.display_name = _clean_display_name(display_name)
    if language is not None:
        user.language = language
    if read_receipts is not None:
        user.read_receipts = read_receipts
    with transaction.atomic():
        user.save(update_fields=["display_name", "language", "read_receipts"])
        directory_index.reindex([user.pk])
    return user


def _end_sessions(user: User, *, keep: str | None = None) -> None:
    """End every session of ``user`` but the one whose key is ``keep``."""
    sessions = UserSession.objects.filter(user=user).exclude(session_key=keep or "")
    keys = list(sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    sessions.delete()


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="password") from exc


def password_set(
    *, user: User, password: str, origin: Origin, keep_session: str | None = None
) -> User:
    """Set a new password (reset link, invitation or change in the settings). Whoever
    knew the old one may have opened sessions or made tokens: they all end, except
    ``keep_session``, the session of a person who changed their own password."""
    if not access.is_active(user):
        raise access.Forbidden
    _validate_password(password, user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save(update_fields=["password"])
        ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())
        _end_sessions(user, keep=keep_session)
        audit_record(actor=user, action="user.password_set", target=user, origin=origin)
    return user


def user_deactivate(*, actor: User, origin: Origin, user: User) -> User:
    """Deactivate an account: every session and token ends in the same transaction."""
    _require(access.can(actor, "manage", user))
    if user.pk == actor.pk:
        raise ServiceError(_("You cannot deactivate your own account."), code="forbidden")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            return user
        user.is_active = False
        user.deactivated_at = timezone.now()
        user.save(update_fields=["is_active", "deactivated_at"])
        ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())
        _end_sessions(user)
        directory_index.reindex([user.pk])  # out of the people index
        audit_record(actor=actor, action="user.deactivate", target=user, origin=origin)
    return user


def user_reactivate(*, actor: User, origin: Origin, user: User) -> User:
    _require(access.can(actor, "manage", user))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            return user
        user.is_active = True
        user.deactivated_at = None
        user.save(update_fields=["is_active", "deactivated_at"])
        # A sign-in that raced the deactivation must not come back to life.
        _end_sessions(user)
        directory_index.reindex([user.pk])
        audit_record(actor=actor, action="user.reactivate", target=user, origin=origin)
    return user


def role_grant(*, actor: User, origin: Origin, user: User, role: Role) -> None:
    _require(access.can(actor, "manage", user))
    with transaction.atomic():
        _, created = UserRole.objects.get_or_create(user=user, role=role)
        if created:
            audit_record(
                actor=actor, action="role.grant", target=user, origin=origin, data={"role": role}
            )


def role_revoke(*, actor: User, origin: Origin, user: User, role: Role) -> None:
    _require(access.can(actor, "manage", user))
    with transaction.atomic():
        deleted, _ = UserRole.objects.filter(user=user, role=role).delete()
        if deleted:
            audit_record(
                actor=actor, action="role.revoke", target=user, origin=origin, data={"role": role}
            )


def hash_token(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is safe and lets us look them up.
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    *, user: User, name: str, scope: TokenScope, password: str, origin: Origin = CLI
) -> tuple[ApiToken, str]:
    """Create a personal token; re-authentication by password is required (not just
    the session cookie). Returns the token and its secret, which is never kept."""
    if not access.is_active(user):
        raise access.Forbidden
    # The password is a sign-in secret: guesses (with a stolen session) count as sign-in
    # attempts, of the account and of the address.
    throttle = login_throttle()
    wait = throttle.attempt(account=user.email, address=origin.ip or "")
    if wait:
        raise ServiceError(
            _("Too many attempts: wait %(seconds)d seconds.") % {"seconds": wait},
            code="throttled",
            retry_after=wait,
        )
    if not user.check_password(password):
        raise ServiceError(
            _("The password is not correct."), code="reauthentication_failed", field="password"
        )
    throttle.forgive(account=user.email, address=origin.ip or "")
    if not name.strip():
        raise ServiceError(_("A token needs a name."), field="name")
    return token_issue(user=user, name=name.strip(), scope=scope)


def token_issue(*, user: User, name: str, scope: TokenScope) -> tuple[ApiToken, str]:
    """A new token and its secret, for a caller that decided already (token_create for
    oneself, chat's bot_create for a bot)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:10], key_hash=hash_token(raw), scope=scope
    )
    return token, raw


def token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    _require(access.can(user, "revoke", token))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token of an active user with this secret, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        # Record use at most once a minute to keep reads cheap.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def session_register(*, user: User, session_key: str, origin: Origin) -> None:
    """Record a new sign-in; past MAX_SESSIONS_PER_USER the oldest sessions end."""
    with transaction.atomic():
        UserSession.objects.update_or_create(
            session_key=session_key,
            defaults={"user": user, "ip": origin.ip, "user_agent": origin.user_agent},
        )
        stale = list(
            UserSession.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("session_key", flat=True)[settings.MAX_SESSIONS_PER_USER :]
        )
        if stale:
            Session.objects.filter(session_key__in=stale).delete()
            UserSession.objects.filter(session_key__in=stale).delete()


def session_forget(*, session_key: str) -> None:
    UserSession.objects.filter(session_key=session_key).delete()

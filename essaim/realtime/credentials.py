"""Who holds a socket, and whether that still holds.

A socket opens with a session cookie (browsers: the Origin must be one of ALLOWED_HOSTS,
as a cross-site page could otherwise ride the cookie) or with an API token in an
``Authorization: Bearer`` header (programs: no Origin needed, the token is not ambient).
Each process's hub checks all its sockets' credentials in a few queries every
SWEEP_SECONDS, so a sign-out, a deactivation, a password change or a token revocation
closes the socket within that time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from django.http.request import validate_host
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from essaim.accounts.models import ApiToken, User
from essaim.accounts.services import token_authenticate


@dataclass(frozen=True)
class Credential:
    user_id: int
    session_key: str | None  # one of the two
    token_id: int | None
    password: str  # sessions: the password hash when checked, as a change ends them


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def origin_allowed(origin: str) -> bool:
    host = urlsplit(origin).hostname
    return bool(host) and validate_host(host or "", settings.ALLOWED_HOSTS)


def foreign_origin(scope: dict[str, Any]) -> bool:
    """A page of another site opens this socket (programs send no Origin)."""
    origin = _header(scope, b"origin")
    return origin is not None and not origin_allowed(origin)


def from_scope(scope: dict[str, Any]) -> Credential | None:
    """The credential a socket's handshake carries, if it is good now."""
    if foreign_origin(scope):
        return None
    origin = _header(scope, b"origin")
    authorization = _header(scope, b"authorization") or ""
    if authorization.lower().startswith("bearer "):
        token = token_authenticate(authorization[7:].strip())
        if token is None:
            return None
        return Credential(token.user_id, None, token.pk, "")  # a token outlives passwords
    if origin is None:
        return None  # a cookie without an Origin is not a browser we can check
    cookies = parse_cookie(_header(scope, b"cookie") or "")
    return session_credential(cookies.get(settings.SESSION_COOKIE_NAME))


def from_request(request: HttpRequest, user: User) -> Credential:
    """The credential an authenticated API request came with (essaim.api's auth)."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return Credential(user.pk, None, token.pk, "")
    return Credential(user.pk, request.session.session_key, None, user.password)


def session_credential(session_key: str | None) -> Credential | None:
    """The session's credential while the session, the account and its password hold."""
    if not session_key:
        return None
    store = SessionStore(session_key)
    if not store.exists(session_key):
        return None
    data = store.load()
    user_id = data.get(SESSION_KEY)
    if data.get(BACKEND_SESSION_KEY) is None or user_id is None:
        return None
    user = User.objects.filter(pk=str(user_id), is_active=True).first()
    if user is None:
        return None
    if not constant_time_compare(data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return None
    return Credential(user.pk, session_key, None, user.password)


def changed(credentials: Iterable[Credential]) -> dict[Credential, Credential | None]:
    """The credentials that changed, in a few queries whatever their number: None for
    those that died; a new credential for a session still good after its own password
    change (Django keeps the session that changed the password)."""
    credentials = set(credentials)
    passwords = dict(
        User.objects.filter(pk__in={c.user_id for c in credentials}, is_active=True).values_list(
            "pk", "password"
        )
    )
    sessions = set(
        Session.objects.filter(
            session_key__in={c.session_key for c in credentials if c.session_key},
            expire_date__gt=timezone.now(),
        ).values_list("session_key", flat=True)
    )
    tokens = set(
        ApiToken.objects.filter(
            pk__in={c.token_id for c in credentials if c.token_id}, revoked_at=None
        ).values_list("pk", flat=True)
    )
    found: dict[Credential, Credential | None] = {}
    for c in credentials:
        if c.user_id not in passwords:
            found[c] = None
        elif c.token_id is not None:
            if c.token_id not in tokens:
                found[c] = None
        elif c.session_key not in sessions:
            found[c] = None
        elif passwords[c.user_id] != c.password:
            found[c] = session_credential(c.session_key)
    return found

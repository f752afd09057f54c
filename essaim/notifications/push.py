"""Web push to the installable app: the VAPID keys, checking a browser's subscription,
and sending (pywebpush: the payload encrypted for the device, RFC 8291; signed with
our VAPID key, RFC 8292).

Essaim posts to the endpoint a browser gave it: only endpoints of the push services in
``settings.PUSH_SERVICES`` are accepted, so a subscription cannot make the server call
any other address. What a confidential community holds never leaves in a push."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from py_vapid import Vapid02
from py_vapid.utils import b64urlencode
from pywebpush import WebPushException, webpush

from essaim.accounts.services import ServiceError

logger = logging.getLogger("essaim.notifications")
ENDPOINT_MAX = 1000
TTL = 24 * 3600  # a push not delivered within a day is dropped by the push service
GONE = (404, 410)  # the subscription ended: forget it


def vapid() -> Vapid02:
    """The server's VAPID key: the PEM file settings.VAPID_PRIVATE_KEY names, made once
    (mode 600) when it does not exist yet, as on the embedded default."""
    path = Path(settings.VAPID_PRIVATE_KEY)
    if not path.exists():
        made = Vapid02()
        made.generate_keys()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(made.private_pem())
    return Vapid02.from_file(str(path))


def public_key() -> str:
    """The application server key a browser subscribes with (base64url, uncompressed)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = vapid().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return str(b64urlencode(raw))


def _decoded(value: object, size: int, field: str) -> str:
    """A base64url key of ``size`` bytes, as given; a ServiceError otherwise."""
    refused = ServiceError(_("This push subscription's keys are not valid."), field=field)
    if not isinstance(value, str) or len(value) > 200:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise refused from None
    if len(raw) != size or (field.endswith("p256dh") and raw[0] != 4):
        raise refused
    return value


def check_subscription(endpoint: object, p256dh: object, auth: object) -> tuple[str, str, str]:
    """A browser's subscription, checked: an https endpoint of a known push service (or
    an origin PUSH_SERVICES names exactly), a P-256 public key and a 16-byte secret."""
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= ENDPOINT_MAX:
        raise ServiceError(_("This push endpoint is not valid."), field="endpoint")
    parts = urlsplit(endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    allowed = any(
        origin == service or (parts.scheme == "https" and fnmatch(parts.hostname or "", service))
        for service in settings.PUSH_SERVICES
    )
    if not allowed or parts.username or parts.password:
        raise ServiceError(_("This push endpoint is not a known push service."), field="endpoint")
    return endpoint, _decoded(p256dh, 65, "keys.p256dh"), _decoded(auth, 16, "keys.auth")


def send(endpoint: str, p256dh: str, auth: str, payload: dict[str, str]) -> int:
    """Push ``payload`` to one device; the push service's HTTP status (0: unreachable)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
    try:
        answer = webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=json.dumps(payload),
            vapid_private_key=vapid(),
            vapid_claims={"sub": settings.VAPID_SUBJECT, "aud": origin},
            ttl=TTL,
            timeout=10,
        )
    except WebPushException as error:
        return error.response.status_code if error.response is not None else 0
    except OSError:
        logger.warning("Push service unreachable: %s", origin)
        return 0
    return int(getattr(answer, "status_code", 201))

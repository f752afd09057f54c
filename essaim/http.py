"""Facts about the request that services record: the client address and agent."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client address; X-Forwarded-For is believed only from a trusted proxy.

    Behind trusted proxies the real client is the right-most address that is not itself
    a trusted proxy (each proxy appends the address it received the request from).
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104
    trusted = settings.TRUSTED_PROXIES
    if remote not in trusted:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            break
        if address not in trusted:
            return address
    return remote


@dataclass(frozen=True)
class Origin:
    """Where an action came from, for the audit log."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> Origin:
        return cls(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])


CLI = Origin(ip=None, user_agent="essaim command line")

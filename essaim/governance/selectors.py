from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from essaim import access
from essaim.accounts.models import User

from .models import AuditEntry


def audit_list(*, fetched_by: User | AnonymousUser, action: str = "") -> QuerySet[AuditEntry]:
    entries = access.visible(fetched_by, AuditEntry.objects.all())
    if action:
        entries = entries.filter(action=action)
    return entries.order_by("-id")

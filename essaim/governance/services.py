"""Every administrative write calls ``audit_record`` inside its own transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from essaim.accounts.models import User
from essaim.http import Origin

from .models import AuditEntry


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    origin: Origin,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=f"{actor.display_name} <{actor.email}>" if actor else "system",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:300],
        data=data or {},
        ip=origin.ip,
        user_agent=origin.user_agent,
    )

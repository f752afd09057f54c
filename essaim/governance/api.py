from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from essaim import access
from essaim.accounts.models import Role
from essaim.api_base import CursorPages, viewer

from . import selectors
from .models import AuditEntry

router = Router(tags=["governance"])


class AuditOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    data: dict[str, Any]
    ip: str | None
    user_agent: str


@router.get("", response=list[AuditOut], summary="The audit log (administrators, compliance)")
@paginate(CursorPages, ordering=("-id",))
def audit_list(request: HttpRequest, action: str = Query("", max_length=64)) -> object:  # type: ignore[type-arg]
    if not access.has_role(viewer(request), Role.COMPLIANCE):
        raise access.Forbidden
    return selectors.audit_list(fetched_by=viewer(request), action=action)


@router.get("/{entry_id}", response=AuditOut, summary="One audit entry")
def audit_detail(request: HttpRequest, entry_id: int) -> AuditEntry:
    return access.access_audit_entry(viewer(request), entry_id)

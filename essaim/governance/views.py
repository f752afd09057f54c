from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from essaim import access
from essaim.accounts.models import Role

from . import selectors


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    if not access.has_role(request.user, Role.COMPLIANCE):
        raise access.NotFound
    action = str(request.GET.get("action", ""))[:64]
    page = Paginator(selectors.audit_list(fetched_by=request.user, action=action), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "governance/audit.html", {"page": page, "action": action})

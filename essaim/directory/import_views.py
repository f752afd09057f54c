"""The people import page, /manage/people/import/ (administrators and HR): upload a CSV,
read the dry-run report, apply it. The file waits between the two steps under a random
name (directory.tasks.store_upload); the import runs as a background task whose progress
the page polls. Thin: the importer checks, plans and writes."""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from essaim import access
from essaim.accounts.models import Role, User
from essaim.http import Origin

from . import importer, tasks

MAX_BYTES = 20 * 1024 * 1024
SHOWN_CHANGES = 200
SHOWN_ERRORS = 1000
TOKEN = re.compile(r"[0-9a-f]{32}")
# The imports this session uploaded: token → id of the task applying it ("" before).
SESSION_KEY = "people_imports"
CLAIM_SECONDS = 3600


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, with a header row; commas or semicolons between cells; at most 20 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def _importer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not access.has_role(user, Role.HR):
        raise access.NotFound
    return user


def _imports(request: HttpRequest) -> dict[str, str]:
    known = request.session.get(SESSION_KEY)
    return dict(known) if isinstance(known, dict) else {}


def _known(request: HttpRequest, token: str) -> str:
    """The task id of an import this session uploaded ("" before it is applied); 404
    for anything else, so that one person cannot read or apply another's file."""
    imports = _imports(request)
    if not TOKEN.fullmatch(token) or token not in imports:
        raise access.NotFound
    return imports[token]


def _remember(request: HttpRequest, token: str, result_id: str) -> None:
    request.session[SESSION_KEY] = {**_imports(request), token: result_id}


def _too_big() -> str:
    return _("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // (1024 * 1024)}


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    _importer(request)
    # Refused before the body is parsed (and CSRF reads it): an oversized upload is
    # never copied into temporary files. CSRF is checked below for everything else.
    length = request.META.get("CONTENT_LENGTH") or "0"
    if request.method == "POST" and length.isdigit() and int(length) > MAX_BYTES + 64 * 1024:
        context = {"form": UploadForm(), "columns": importer.COLUMNS, "too_big": _too_big()}
        return render(request, "directory/import.html", context, status=413)
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", _too_big())
        else:
            token = tasks.store_upload(upload.chunks())
            _remember(request, token, "")
            return redirect("people-import-report", token=token)
    return render(
        request,
        "directory/import.html",
        {"form": form, "columns": importer.COLUMNS},
        status=400 if form.errors else 200,
    )


@login_required
def import_report(request: HttpRequest, token: str) -> HttpResponse:
    actor = _importer(request)
    result_id = _known(request, token)
    if result_id:
        return render(request, "directory/import.html", {"status": _status(token, result_id)})
    stored = tasks.upload_path(token)
    if not stored.exists():
        raise access.NotFound
    plan = importer.plan(importer.parse(stored.read_bytes()), actor=actor)
    return render(request, "directory/import.html", {"report": _report(plan), "token": token})


@login_required
@require_POST
def import_apply(request: HttpRequest, token: str) -> HttpResponse:
    actor = _importer(request)
    result_id = _known(request, token)
    if result_id and _status(token, result_id)["state"] not in ("refused", "failed"):
        return redirect("people-import-report", token=token)  # already applying or applied
    # A double click sends two requests that both read the session before either writes
    # it: the first to claim this attempt (the file and the task before it) queues it.
    if not cache.add(f"people-import-apply:{token}:{result_id}", True, CLAIM_SECONDS):
        return redirect("people-import-report", token=token)
    origin = Origin.of(request)
    result = tasks.import_people.enqueue(
        token=token,
        actor_id=actor.pk,
        ip=origin.ip,
        user_agent=origin.user_agent,
        language=get_language() or "",
    )
    _remember(request, token, str(result.id))
    return redirect("people-import-report", token=token)


@login_required
def import_status(request: HttpRequest, token: str) -> HttpResponse:
    """The progress fragment the page asks for every 2 s while the import runs."""
    _importer(request)
    result_id = _known(request, token)
    if not result_id:
        raise access.NotFound
    context = {"status": _status(token, result_id), "fragment": True, "layout": _fragment()}
    return render(request, "directory/import.html", context)


@functools.cache
def _fragment() -> jinja2.Template:
    """What the status fragment extends instead of base.html: the content block alone."""
    return engines["jinja2"].env.from_string("{% block content %}{% endblock %}")  # type: ignore[attr-defined]


def _status(token: str, result_id: str) -> dict[str, Any]:
    """waiting, running (with done and total), done (with counts), refused or failed."""
    try:
        result = tasks.import_people.get_result(result_id)
    except TaskResultDoesNotExist:
        return {"state": "failed", "token": token}
    if result.status == TaskResultStatus.SUCCESSFUL:
        outcome = result.return_value or {}
        return {
            **outcome,
            "token": token,
            "counts": _counts(outcome, done=True) if outcome.get("state") == "done" else [],
        }
    if result.status == TaskResultStatus.FAILED:
        return {"state": "failed", "token": token}
    done, total = cache.get(tasks.progress_key(token)) or (0, 0)
    state = "running" if result.status == TaskResultStatus.RUNNING else "waiting"
    return {"state": state, "token": token, "done": done, "total": total}


def _counts(summary: dict[str, int], *, done: bool = False) -> list[tuple[str, int]]:
    if done:
        labels = [
            ("created", _("People created")),
            ("updated", _("People updated")),
            ("unchanged", _("People unchanged")),
            ("deactivated", _("Accounts deactivated")),
            ("reactivated", _("Accounts reactivated")),
            ("units_created", _("Org units created")),
            ("units_updated", _("Org units renamed or moved")),
            ("sites_created", _("Sites created")),
            ("sites_updated", _("Sites updated")),
        ]
    else:
        labels = [
            ("created", _("People to create")),
            ("updated", _("People to update")),
            ("unchanged", _("People unchanged")),
            ("deactivated", _("Accounts to deactivate")),
            ("reactivated", _("Accounts to reactivate")),
            ("units_created", _("Org units to create")),
            ("units_updated", _("Org units to rename or move")),
            ("sites_created", _("Sites to create")),
            ("sites_updated", _("Sites to update")),
        ]
    return [(label, summary.get(key, 0)) for key, label in labels]


def _report(plan: importer.Plan) -> dict[str, Any]:
    """What the page shows of a plan: counts, the first changes, the errors."""
    lines: list[dict[str, Any]] = []
    for row, old, new in plan.unit_changes():
        lines.append({"row": row, "what": _("Org unit"), "changes": [("", old, new)]})
    for row, old, new in plan.site_changes():
        lines.append({"row": row, "what": _("Site"), "changes": [("", old, new)]})
    actions = {"create": _("New person"), "update": _("Update")}
    for person in plan.people:
        if len(lines) > SHOWN_CHANGES:
            break
        if person.action != "unchanged":
            lines.append(
                {
                    "row": person.row,
                    "what": f"{actions[person.action]} {person.email}",
                    "changes": [(c.column, c.old, c.new) for c in plan.changes(person)],
                }
            )
    lines.sort(key=lambda line: line["row"])
    summary = plan.summary()
    return {
        "rows": summary["rows"],
        "counts": _counts(summary),
        "changes": lines[:SHOWN_CHANGES],
        "more_changes": len(lines) > SHOWN_CHANGES,
        "errors": plan.errors[:SHOWN_ERRORS],
        "error_count": len(plan.errors),
        "can_apply": plan.ok and plan.has_changes,
        "has_changes": plan.has_changes,
    }


urlpatterns = [
    path("manage/people/import/", import_upload, name="people-import"),
    path("manage/people/import/<str:token>/", import_report, name="people-import-report"),
    path("manage/people/import/<str:token>/apply/", import_apply, name="people-import-apply"),
    path("manage/people/import/<str:token>/status/", import_status, name="people-import-status"),
]

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from essaim.accounts.models import User
from essaim.accounts.services import user_update_self
from essaim.communities import selectors as community_selectors
from essaim.worker import BACKLOG_ALERT_SECONDS, oldest_waiting_task_age

RETRY_AFTER_SECONDS = 5  # a database restarting, or a moment of load


def live_panel(me: User) -> str:
    """What the home page's live activity panel needs (events.js): the communities whose
    events it shows, and its texts, with the placeholders the script fills in."""
    mine = community_selectors.mine(me)
    live = {
        "me": me.pk,
        "communities": {
            c.pk: {"name": c.name, "url": reverse("community", args=[c.slug])}
            for c in mine.only("pk", "name", "slug")
        },
        "texts": {
            "joined": _("%(name)s joined %(community)s"),
            "left": _("%(name)s left %(community)s"),
            "updated": _("%(community)s was updated"),
            "archived": _("%(community)s was archived"),
            # Both plural forms of the count the community pages show; the script picks one.
            "one": ngettext("%(counter)s member", "%(counter)s members", 1),
            "other": ngettext("%(counter)s member", "%(counter)s members", 2),
        },
    }
    return json.dumps(live)


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 503 when the database does not answer. The
    cache down (Redis: a miss for every request, essaim.cache) or tasks that wait too long
    (no worker taking them) make the status "degraded" but keep 200: the web still
    serves, and every node shares them, so none should leave the pool. Says nothing about
    any person."""
    checks: dict[str, str | int] = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        waited = int(oldest_waiting_task_age())
        checks["tasks"] = "delayed" if waited > BACKLOG_ALERT_SECONDS else "ok"
        checks["oldest_waiting_task_seconds"] = waited
    except DatabaseError:
        checks["database"] = "unavailable"
    try:
        cache.set("health", "ok", timeout=5)
        if cache.get("health") != "ok":
            checks["cache"] = "unavailable"
    except Exception:  # any backend error (Redis down, …) means unavailable
        checks["cache"] = "unavailable"
    if checks["database"] == "unavailable":
        return JsonResponse({"status": "unavailable", **checks}, status=503)
    degraded = checks["cache"] == "unavailable" or checks["tasks"] == "delayed"
    status = "degraded" if degraded else "ok"
    return JsonResponse({"status": status, **checks})


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400s raised before a view runs; a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413."""
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    return render(request, "400.html", status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    """A 500, rendered without the request (no user, no database); but the database
    unreachable, or no connection free within DATABASE_POOL_TIMEOUT, is a 503 with
    Retry-After: nothing was committed, and the request may be sent again (SECURITY.md
    #42). Under /api/, in the API's error shape."""
    unavailable = isinstance(sys.exc_info()[1], OperationalError)
    status = 503 if unavailable else 500
    response: HttpResponse
    if request.path.startswith("/api/"):
        from essaim.api_base import error_response

        if unavailable:
            response = error_response(status, "unavailable", "The database is unreachable.")
        else:
            response = error_response(status, "server_error", "Something went wrong.")
    else:
        page = render_to_string("500.html", {"unavailable": unavailable})
        response = HttpResponse(page, status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals get a page (or, under /api/, the API's error shape) that says why."""
    if request.path.startswith("/api/"):
        from essaim.api_base import error_response

        return error_response(
            403,
            "csrf_failed",
            "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value.",
        )
    return render(request, "web/csrf_failure.html", status=403)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch language; a signed-in person's choice is also kept in their account."""
    language = str(request.POST.get("language", ""))
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Unknown language."))
    if request.user.is_authenticated:
        user_update_self(user=request.user, language=language)
    return set_language(request)


SERVICE_WORKER = Path(__file__).parent / "static" / "essaim" / "sw.js"


def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: Essaim installs as an app on phones and desktops."""
    data = {
        "name": "Essaim",
        "short_name": "Essaim",
        "description": _("The enterprise social network."),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f6f9",
        "theme_color": "#0e7490",
        "icons": [{"src": static("essaim/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return JsonResponse(data, content_type="application/manifest+json")


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the site's root: its scope is every page."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"  # a new version is picked up at once
    return response

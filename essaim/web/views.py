from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from essaim.accounts.services import user_update_self


@login_required
def home(request: HttpRequest) -> HttpResponse:
    request.section = "home"  # type: ignore[attr-defined]
    return render(request, "web/home.html")


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

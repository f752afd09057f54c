"""Search pages: results with filters, and suggestions while typing. Thin: the selectors
decide what each searcher finds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.communities.models import Community
from essaim.knowledge.models import QuestionState
from essaim.realtime import events

from . import selectors, services
from .documents import KINDS
from .engine import Filters, day_bound
from .models import TITLE_MAX, WatchFrequency
from .query import QUERY_MAX

KIND_LABELS = {
    "post": _("Posts"),
    "comment": _("Comments"),
    "question": _("Questions"),
    "answer": _("Answers"),
    "article": _("Articles"),
    "message": _("Messages"),
    "community": _("Communities"),
    "file": _("Files"),
}
STATE_LABELS: dict[str, Any] = {
    QuestionState.OPEN: _("Unanswered"),
    QuestionState.ANSWERED: _("Answered"),
    QuestionState.ACCEPTED: _("Accepted answer"),
    QuestionState.DUPLICATE: _("Duplicate"),
}
FILTER_VALUES_MAX = 20
LOG_SALT = "essaim.search.log"
LOG_AGE = 24 * 3600  # a results page's links count clicks for a day
ANALYTICS_DAYS = 30


def _day(value: str, end: bool) -> datetime | None:
    try:
        return day_bound(date.fromisoformat(value), end=end)
    except ValueError:
        return None


def filters_from(params: QueryDict) -> Filters:
    """The filters of a search's parameters; a value that is not one is ignored."""

    def ints(name: str) -> list[int]:
        return [int(v) for v in params.getlist(name)[:FILTER_VALUES_MAX] if v.isdigit()]

    def texts(name: str, allowed: Any = None) -> list[str]:
        values = [v[:64] for v in params.getlist(name)[:FILTER_VALUES_MAX]]
        return [v for v in values if allowed is None or v in allowed]

    has_file = params.get("has_file")
    return Filters(
        kinds=texts("kind", KINDS),
        communities=ints("community"),
        authors=ints("author"),
        tags=texts("tag"),
        states=texts("state", QuestionState.values),
        has_file=True if has_file == "1" else None,
        since=_day(params.get("since", ""), end=False),
        until=_day(params.get("until", ""), end=True),
    )


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _language() -> str:
    return "fr" if (get_language() or "").startswith("fr") else "en"


def _facets(me: User, page: selectors.SearchPage, filters: Filters) -> list[dict[str, Any]]:
    """The facets to show: each value with its label, count and whether it is chosen."""
    counts = page.facets
    ids = [int(v) for v in counts.get("community", {}) if v.isdigit()]
    communities = access.visible(me, Community.objects.filter(pk__in=ids))
    labels: dict[str, dict[str, Any]] = {
        "kind": {k: KIND_LABELS.get(k, k) for k in counts.get("kind", {})},
        "community": {str(pk): name for pk, name in communities.values_list("pk", "name")},
        "tag": {t: f"#{t}" for t in counts.get("tag", {})},
        "state": {s: STATE_LABELS[s] for s in counts.get("state", {}) if s in STATE_LABELS},
    }
    chosen = {
        "kind": set(filters.kinds),
        "community": {str(c) for c in filters.communities},
        "tag": set(filters.tags),
        "state": set(filters.states),
    }
    titles = {
        "kind": _("Type"),
        "community": _("Community"),
        "tag": _("Tags"),
        "state": _("Questions"),
    }
    found = []
    for key, values in labels.items():
        options = [
            {
                "value": value,
                "label": label,
                "count": counts[key].get(value, 0),
                "checked": value in chosen[key],
            }
            for value, label in values.items()
        ]
        if options:
            found.append({"key": key, "label": titles[key], "options": options})
    return found


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    request.section = "search"  # type: ignore[attr-defined]
    me = _me(request)
    text = str(request.GET.get("q", ""))[:QUERY_MAX]
    filters = filters_from(request.GET)
    raw_page = str(request.GET.get("page", "1"))
    last = selectors.CANDIDATES // selectors.PAGE_SIZE
    number = min(max(int(raw_page), 1), last) if raw_page.isdigit() else 1
    page = selectors.search(
        me, text, filters=filters, offset=(number - 1) * selectors.PAGE_SIZE, language=_language()
    )
    people = []
    log = ""
    if text and number == 1:
        if not filters.kinds:
            people = selectors.people_for(me, text)
        logged = services.search_logged(text=text, results=page.total, corrected=page.corrected)
        log = signing.dumps(logged.pk, salt=LOG_SALT)
    context = {
        "text": text,
        "page": page,
        "people": people,
        "facets": _facets(me, page, filters) if page.total else [],
        "filters": filters,
        "number": number,
        "grouped": request.GET.get("view") == "grouped",
        "kind_labels": KIND_LABELS,
        "reasons": selectors.REASONS,
        "querystring": request.GET.copy(),
        "log": log or request.GET.get("log", ""),
    }
    return render(request, "search/search.html", context)


@login_required
def open_result(request: HttpRequest) -> HttpResponse:
    """A result opened from the results page: counted for the analytics, then shown."""
    kind, _sep, pk = str(request.GET.get("to", "")).partition(":")
    url = selectors.result_url(_me(request), kind, int(pk)) if pk.isdigit() else None
    if url is None:
        raise Http404
    try:
        log_id = signing.loads(str(request.GET.get("log", "")), salt=LOG_SALT, max_age=LOG_AGE)
    except signing.BadSignature:
        log_id = None
    if isinstance(log_id, int):
        services.search_clicked(log_id)
    return redirect(url)


@login_required
def analytics_page(request: HttpRequest) -> HttpResponse:
    if not access.is_admin(request.user):
        raise Http404
    since = timezone.now() - timedelta(days=ANALYTICS_DAYS)
    context = {
        "analytics": selectors.search_analytics(since),
        "days": ANALYTICS_DAYS,
        "waiting": selectors.index_backlog(),
    }
    return render(request, "search/analytics.html", context)


@login_required
def suggest(request: HttpRequest) -> HttpResponse:
    text = str(request.GET.get("q", ""))[:QUERY_MAX]
    found = selectors.suggest(_me(request), text, language=_language())
    return render(request, "search/suggestions.html", {"text": text, "found": found})


@login_required
def watches_page(request: HttpRequest) -> HttpResponse:
    """My keyword watches and the shared ones I may join; POST makes one."""
    request.section = "search"  # type: ignore[attr-defined]
    me = _me(request)
    status, text, title = 200, str(request.GET.get("q", ""))[:QUERY_MAX], ""
    if request.method == "POST":
        community = None
        if (community_id := str(request.POST.get("community", ""))).isdigit():
            community = access.access_community(me, community_id)
        try:
            watch = services.watch_create(
                actor=me,
                title=request.POST.get("title", ""),
                text=request.POST.get("text", ""),
                kinds=request.POST.getlist("kind")[:FILTER_VALUES_MAX],
                shared=request.POST.get("shared") == "1",
                community=community,
                language=_language(),
            )
        except ServiceError as exc:  # the page again, with what was typed
            messages.error(request, exc.message)
            status, text = 422, str(request.POST.get("text", ""))[:QUERY_MAX]
            title = str(request.POST.get("title", ""))[:TITLE_MAX]
        else:
            return redirect("watch", watch.pk)
    context = {
        "found": selectors.watches_for(me),
        "text": text,
        "title": title,
        "hosts": selectors.watch_hosts(me),
        "employee": access.sees_everyone(me),
        "kind_labels": KIND_LABELS,
        "frequencies": dict(WatchFrequency.choices),
    }
    return render(request, "search/watches.html", context, status=status)


@login_required
def watch_page(request: HttpRequest, watch_id: int) -> HttpResponse:
    request.section = "search"  # type: ignore[attr-defined]
    me = _me(request)
    position = events.head_now()  # before the watch's feed: the page's socket resumes from it
    context = {
        "view": selectors.watch_view(me, watch_id),
        "events_from": position,
        "kind_labels": KIND_LABELS,
        "frequencies": WatchFrequency.choices,
    }
    return render(request, "search/watch.html", context)


@login_required
@require_POST
def watch_act(request: HttpRequest, watch_id: int, action: str) -> HttpResponse:
    """Subscribe (or change how often), unsubscribe, comment, delete."""
    me = _me(request)
    watch = access.access_watch(me, watch_id)
    target = reverse("watch", args=[watch.pk])
    try:
        if action == "subscribe":
            frequency = request.POST.get("frequency", WatchFrequency.INSTANT)
            services.watch_subscribe(actor=me, watch=watch, frequency=frequency)
        elif action == "unsubscribe":
            services.watch_unsubscribe(actor=me, watch=watch)
        elif action == "comment":
            services.watch_comment(actor=me, watch=watch, body=request.POST.get("body", ""))
        elif action == "delete":
            services.watch_delete(actor=me, watch=watch)
            target = reverse("watches")
        else:
            raise access.NotFound
    except ServiceError as exc:  # the watch's page again, saying what was wrong
        messages.error(request, exc.message)
        response = watch_page(request, watch.pk)
        response.status_code = 422
        return response
    return HttpResponseRedirect(target)


urlpatterns = [
    path("search/", search_page, name="search"),
    path("search/suggest/", suggest, name="search-suggest"),
    path("search/open/", open_result, name="search-open"),
    path("manage/search/", analytics_page, name="search-analytics"),
    path("search/watches/", watches_page, name="watches"),
    path("search/watches/<id:watch_id>/", watch_page, name="watch"),
    path("search/watches/<id:watch_id>/<slug:action>/", watch_act, name="watch-act"),
]

"""The demo's search: the index built from the demo's content, and keyword watches — a
shared one on remote work and one hosted by the busiest community — with subscribers and
the matches they would have gathered."""

from __future__ import annotations

import random

from django.db.models import Count

from essaim import access
from essaim.accounts.models import User, UserKind
from essaim.communities.models import RUNNERS, Community, Membership

from . import services
from .engine import Filters, Request, engine
from .indexer import rebuild
from .models import Watch, WatchMatch
from .query import parse

BACKFILL = 12  # matches shown on a demo watch's page


def _backfill(watch: Watch) -> None:
    """Record the newest things a watch matches, as if they came after it."""
    query = parse(watch.text, language=watch.language)
    request = Request(query, access.search_keys(watch.owner), Filters(kinds=watch.kinds), limit=200)
    hits = sorted(engine().search(request).hits, key=lambda h: (h.kind, h.pk))[-BACKFILL:]
    WatchMatch.objects.bulk_create(
        [WatchMatch(watch=watch, kind=h.kind, object_id=h.pk) for h in hits],
        ignore_conflicts=True,
    )


def build_search(*, seed: int) -> dict[str, int]:
    """Index the demo, then make its watches; nothing when there is nobody."""
    indexed = rebuild()
    employees = list(
        User.objects.filter(is_active=True, kind=UserKind.EMPLOYEE).order_by("pk")[:40]
    )
    if len(employees) < 4:
        return {"indexed": indexed}
    rng = random.Random(f"{seed}:search")  # noqa: S311  (demo data, reproducible)
    admin = employees[0]
    remote = services.watch_create(
        actor=admin,
        title="Télétravail",
        text="télétravail OR remote",
        shared=True,
        language="fr",
    )
    watches = [remote]
    busiest = (
        Community.objects.filter(archived_at__isnull=True)
        .annotate(n=Count("memberships"))
        .order_by("-n", "pk")
        .first()
    )
    runner = (
        Membership.objects.filter(community=busiest, role__in=RUNNERS)
        .select_related("user")
        .first()
    )
    if busiest is not None and runner is not None:
        watches.append(
            services.watch_create(
                actor=runner.user,
                title=f"Veille {busiest.name}",
                text="client OR customer",
                community=busiest,
                language="fr",
            )
        )
    for watch in watches:
        for person in rng.sample(employees[1:], 6):
            if access.can(person, "subscribe", watch):
                services.watch_subscribe(
                    actor=person, watch=watch, frequency=rng.choice(["instant", "daily"])
                )
        _backfill(watch)
    return {"indexed": indexed, "watches": len(watches)}

"""Server time and SQL queries of the community lists on a large organisation.

Builds the demo organisation of --users people (essaim.demo.build_organisation, with its
own ~34 communities) into a throwaway database (SQLite, or PostgreSQL when DATABASE_URL
names a server; see bench_directory.py, whose database, timing and report code this
reuses), then adds --communities communities in bulk: half public, a quarter private,
15 % secret, 10 % external, each with 10 to 100 random members; the measured employee
is a member of --mine of them, of every visibility. Then, signed in as that employee, it
sends --requests requests of each kind, one at a time, in-process:

- "my communities" `GET /communities/?scope=mine` and its API form;
- the community list `GET /communities/?scope=all`, its second page, a search in it;
- suggestions `GET /communities/?scope=suggested`;
- a community's home `GET /c/<slug>/`.

Prints per kind p50/p95/p99/max, SQL time and query counts, whether "my communities" and
the list meet p95 < 30 ms with a constant number of queries, and a JSON line.

    python bench/bench_communities.py [--users 50000] [--communities 5000] [--mine 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
from typing import Any

from bench_directory import (
    HEADER,
    Kind,
    figures,
    in_throwaway_database,
    line,
    peak_rss_mib,
    run_kind,
)

TARGET_MS = 30.0
HOST = "127.0.0.1"


def populate(args: argparse.Namespace, rng: random.Random) -> Any:
    """The extra communities and memberships, in bulk; returns the measured employee."""
    from django.db import transaction
    from django.utils import timezone

    from essaim import bulk
    from essaim.accounts.models import User, UserKind
    from essaim.communities.models import Community, Membership, Role, Visibility

    staff = list(
        User.objects.filter(is_active=True, kind=UserKind.EMPLOYEE, is_admin=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    me = User.objects.get(pk=staff[len(staff) // 2])
    words = ["data", "projet", "qualité", "client", "lean", "python", "site", "équipe", "achats"]
    visibilities = [Visibility.PUBLIC] * 10 + [Visibility.PRIVATE] * 5
    visibilities += [Visibility.SECRET] * 3 + [Visibility.EXTERNAL] * 2
    with transaction.atomic():
        Community.objects.bulk_create(
            [
                Community(
                    name=f"{rng.choice(words).capitalize()} {i:05d}",
                    slug=f"bench-{i:05d}",
                    visibility=rng.choice(visibilities),
                    kind=rng.choice(["practice", "project", "trade", "region", "other"]),
                    description=f"Communauté {rng.choice(words)} numéro {i}.",
                    tags=rng.sample(words, 2),
                )
                for i in range(args.communities)
            ],
            batch_size=2000,
        )
        made = list(
            Community.objects.filter(slug__startswith="bench-").values_list("pk", flat=True)
        )
        mine = set(rng.sample(made, args.mine))
        rows = []
        now = timezone.now()
        for pk in made:
            members = set(rng.sample(staff, rng.randint(10, 100))) - {me.pk}
            owner, *rest = sorted(members)
            rows.append((pk, owner, Role.OWNER, False, now))
            rows += [(pk, user, Role.MEMBER, False, now) for user in rest]
            if pk in mine:
                role = rng.choice([Role.OWNER, Role.MEMBER, Role.READER])
                rows.append((pk, me.pk, role, False, now))
        fields = ("community_id", "user_id", "role", "by_rule", "joined_at")
        bulk.insert(Membership, fields, rows)
    return me, len(rows)


def build_kinds(args: argparse.Namespace, rng: random.Random, me: Any) -> list[Kind]:
    from essaim.communities.models import Membership

    n = args.warmup + args.requests
    slugs = list(Membership.objects.filter(user=me).values_list("community__slug", flat=True))

    def same(shape: str, path: str) -> list[tuple[str, str]]:
        return [(shape, path)] * n

    return [
        Kind("my communities", "mine", same("mine", "/communities/?scope=mine")),
        Kind("my communities, API", "mine", same("mine api", "/api/v1/communities?scope=mine")),
        Kind("list", "list", same("all", "/communities/?scope=all")),
        Kind("list, page 2", "list", same("page 2", "/communities/?scope=all&page=2")),
        Kind(
            "list, search",
            "list",
            [
                ("search", f"/communities/?scope=all&q={rng.choice(['data', 'lean', 'client'])}")
                for _ in range(n)
            ],
        ),
        Kind("suggestions", "other", same("suggested", "/communities/?scope=suggested")),
        Kind("community home", "other", [("home", f"/c/{rng.choice(slugs)}/") for _ in range(n)]),
    ]


def measure(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from essaim.demo import build_organisation

    rng = random.Random(args.seed)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_organisation(users=args.users, seed=args.seed, password=secrets.token_hex(8))
    built = time.perf_counter()
    me, memberships = populate(args, rng)
    populated = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum does within a minute of a load
    print(f"database    {connection.vendor}")
    print(
        f"build       {args.users:,} people in {built - started:.1f} s; "
        f"{args.communities:,} communities, {memberships:,} memberships in "
        f"{populated - built:.1f} s; the viewer is in {args.mine} of them"
    )
    kinds = build_kinds(args, rng, me)
    client = Client(HTTP_HOST=HOST)
    client.force_login(me)
    print(HEADER, flush=True)
    for kind in kinds:
        run_kind(client, kind, args)
        print(line(kind.name, figures([kind]), kind.constant()), flush=True)
    targets = {}
    for group in ("mine", "list"):
        members = [k for k in kinds if k.group == group]
        found = figures(members)
        met = found["p95"] < TARGET_MS and all(k.constant() for k in members)
        targets[group] = {"p95_ms": found["p95"], "met": met}
        print(
            f"target {group} p95 < {TARGET_MS:g} ms, constant queries: "
            f"{found['p95']:.1f} ms, {'met' if met else 'MISSED'}"
        )
    errors = sum(sum(k.errors.values()) for k in kinds)
    print(f"peak RSS    {peak_rss_mib():,.0f} MiB")
    result = {
        "bench": "communities",
        "database": connection.vendor,
        "users": args.users,
        "communities": args.communities,
        "mine": args.mine,
        "kinds": {k.name: figures([k]) | {"constant": k.constant()} for k in kinds},
        "targets": targets,
        "errors": errors,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--communities", type=int, default=5_000)
    parser.add_argument("--mine", type=int, default=200, help="communities of the viewer")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    return in_throwaway_database(args, measure)


if __name__ == "__main__":
    sys.exit(main())

"""Server time and SQL queries of the directory pages on a generated organisation.

Builds the demo organisation of --users people once (essaim.demo.build_organisation, which
also fills the search index) into a throwaway database: a fresh SQLite file in a temporary
ESSAIM_VAR_DIR, or, when DATABASE_URL (or --database-url) names a PostgreSQL server, a
database essaim_bench_dir_<pid> that this script creates on that server and drops at the
end (the URL is only the admin connection; its own database is never written). Then signs
an ordinary employee in (force_login) and sends the requests one at a time, in-process,
through django.test.Client: server time is the whole Django request (middleware, view,
template or JSON), no network. Kinds of request, each warmed up, then run --requests
times with queries drawn at random from the generated people:

- search page `GET /people/?q=…`: exact first and last names, prefixes of 1-3 and of 4
  letters, one-typo misspellings (a swapped or dropped letter), "first last", a job word,
  a site, a name within its person's site or department (`site=`, `org_unit=`), sort by
  name, a department without words, the second page of a common word;
- the same mix through the API, `GET /api/v1/people?q=…`;
- org chart `GET /people/<id>/org-chart/`: people without reports, managers, the
  managers with the most reports, the CEO (the employee without a manager);
- profile `GET /people/<id>/` and org unit `GET /org/<id>/` (root, departments, teams).

Prints per kind the count, p50/p95/p99/max in ms, the median time spent in SQL and the
SQL queries per request (min and max, counted with CaptureQueriesContext; every request of
a kind has the same shape, so min == max, and the same count whether a manager has 1 or 44
reports, means no N+1), whether the issue's targets are met (search p95 < 50 ms, org chart
p95 < 30 ms; a group's p95 counts each kind as likely), peak RSS, and one final JSON line.
A kind stops after --max-seconds (its warm-up after a quarter of it) so that a slow one
cannot stall `make bench`. PostgreSQL is VACUUMed and ANALYZEd after the load, as its
autovacuum does within a minute of a bulk insert (since PostgreSQL 13 inserts alone start
a vacuum, which marks pages all-visible for index-only scans); SQLite is not, as nothing in
Essaim does it (--analyze changes that).
Figures are printed, never asserted: the exit status is non-zero only when a request
fails (a status other than 200).

    python bench/bench_directory.py [--users 50000] [--requests 300] [--max-seconds 30]
    python bench/bench_directory.py --users 5000 --requests 50     # a quick run
    python bench/bench_directory.py --only "org chart" --requests 500
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/bench_directory.py
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

SEARCH_TARGET_MS = 50.0  # the targets, p95 of server time
ORG_CHART_TARGET_MS = 30.0
PAGE_SIZE = 20  # of the search page (essaim.directory.views.PAGE_SIZE)
BIG_MANAGERS = 20
HOST = "127.0.0.1"  # in the default ALLOWED_HOSTS


# --- The throwaway database ---------------------------------------------------------------
@dataclass
class Database:
    admin_url: str = ""  # PostgreSQL only: where the throwaway database is created
    name: str = ""

    def create(self, url: str, tmp: Path, existing: bool = False) -> None:
        """Point Essaim at a fresh database: SQLite in ``tmp``, or a new PostgreSQL one (named
        ``name`` if set; ``existing``: that one as it is)."""
        # Always a fresh var/ (secret key, static, media), even on PostgreSQL.
        os.environ["ESSAIM_VAR_DIR"] = str(tmp / "var")
        if not url:
            os.environ.pop("DATABASE_URL", None)
            return
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise SystemExit(f"DATABASE_URL must name a PostgreSQL server, not {parts.scheme}:")
        import psycopg
        from psycopg import sql

        self.admin_url = urlunsplit(parts._replace(scheme="postgresql"))
        self.name = self.name or f"essaim_bench_dir_{os.getpid()}"
        if not existing:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.name}"))

    def drop(self) -> None:
        if not self.name:
            return
        import psycopg
        from psycopg import sql

        if "django" in sys.modules:
            from django.db import connections

            for conn in connections.all(initialized_only=True):
                conn.close()
                close_pool = getattr(conn, "close_pool", None)
                if close_pool is not None:
                    close_pool()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
        self.name = ""


# --- Measurements -------------------------------------------------------------------------
@dataclass
class Kind:
    """One kind of request: the paths to send and what they took."""

    name: str
    group: str  # "search", "api search", "org chart", "profile", "org unit"
    paths: list[tuple[str, str]]  # (shape, path); the shape is the kind's own name but in mixes
    ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # time spent executing its queries
    queries: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[int] = field(default_factory=Counter)
    stopped_early: bool = False

    def query_counts(self) -> list[int]:
        return [n for counts in self.queries.values() for n in counts]

    def constant(self) -> bool:
        """Every shape of request in this kind made one and the same number of queries."""
        return all(min(counts) == max(counts) for counts in self.queries.values() if counts)


def pct(ordered: list[float], p: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def weighted_pct(samples: list[tuple[float, float]], p: float) -> float:
    """Percentile of (value, weight) samples, the samples sorted by value."""
    total = sum(w for _, w in samples)
    seen = 0.0
    for value, weight in samples:
        seen += weight
        if seen >= p / 100 * total * (1 - 1e-12):
            return value
    return math.nan


def figures(kinds: list[Kind]) -> dict[str, Any]:
    """Count, percentiles and query counts of one kind, or of several with the same weight
    each whatever their count (a kind cut short by --max-seconds weighs as much as the
    others: the mix is "each kind of request as likely")."""
    samples = sorted((v, 1 / len(k.ms)) for k in kinds for v in k.ms)
    sql = sorted((v, 1 / len(k.sql_ms)) for k in kinds for v in k.sql_ms)
    queries = [n for k in kinds for n in k.query_counts()]
    return {
        "count": len(samples),
        "p50": round(weighted_pct(samples, 50), 2),
        "p95": round(weighted_pct(samples, 95), 2),
        "p99": round(weighted_pct(samples, 99), 2),
        "max": round(samples[-1][0], 2) if samples else math.nan,
        "sql_p50": round(weighted_pct(sql, 50), 2),
        "queries_min": min(queries) if queries else None,
        "queries_max": max(queries) if queries else None,
    }


def run_kind(client: Any, kind: Kind, args: argparse.Namespace) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def check(status: int, path: str) -> None:
        if status != 200:
            kind.errors[status] += 1
            if sum(kind.errors.values()) == 1:
                print(f"  {kind.name}: GET {path} answered {status}", flush=True)

    spent = [0.0]

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        begin = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - begin

    started = time.perf_counter()
    for _, path in kind.paths[: args.warmup]:
        check(client.get(path).status_code, path)
        if time.perf_counter() - started > args.max_seconds / 4:
            break
    started = time.perf_counter()
    for shape, path in kind.paths[args.warmup :]:
        reset_queries()  # CaptureQueriesContext stops the per-request reset; keep the log short
        spent[0] = 0.0
        begin = time.perf_counter()  # before the context: it opens the database connection
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
            status = client.get(path).status_code
        kind.ms.append((time.perf_counter() - begin) * 1000)
        kind.sql_ms.append(spent[0] * 1000)
        kind.queries[shape].append(len(captured))
        check(status, path)
        if time.perf_counter() - started > args.max_seconds:
            kind.stopped_early = True
            break


# --- The requests -------------------------------------------------------------------------
@dataclass
class Person:
    id: int
    first: str  # as typed: the first and last word of a "First Last" display name
    last: str
    title: str
    site: int | None
    unit: int | None
    manager: int | None


def single_word(text: str, minimum: int = 4) -> str:
    """The normalised word of ``text`` when it gives exactly one of ``minimum``+ letters."""
    from essaim.directory.text import words

    found = words(text)
    return found[0] if len(found) == 1 and len(found[0]) >= minimum and found[0].isalpha() else ""


def misspell(rng: random.Random, name: str) -> str:
    """One typo: two neighbouring letters swapped, or one letter dropped (not the last,
    which would leave a prefix)."""
    i = rng.randrange(1, len(name) - 1)
    if rng.random() < 0.5 and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i + 1 :]


def build_kinds(rng: random.Random, args: argparse.Namespace) -> list[Kind]:
    """Every kind of request, with warm-up + --requests paths drawn from the database."""
    from essaim.accounts.models import UserKind
    from essaim.directory.models import OrgUnit, Profile, Site, TokenVariant, VariantKind
    from essaim.directory.text import words

    people = [
        Person(pk, *(name.split(" ", 1) if " " in name else (name, "")), title, site, unit, boss)
        for pk, name, title, site, unit, boss in Profile.objects.filter(
            user__is_active=True, user__kind=UserKind.EMPLOYEE
        )
        .order_by("user_id")
        .values_list("user_id", "user__display_name", "job_title", "site", "org_unit", "manager")
    ]
    units = dict(OrgUnit.objects.values_list("id", "path"))
    parents = set(OrgUnit.objects.exclude(parent=None).values_list("parent", flat=True))
    root_units = [pk for pk, path in units.items() if path.count("/") == 2]

    def department(unit: int | None) -> int | None:
        """The unit's top-level department (one below the root), None for the root's."""
        parts = units.get(unit or 0, "").strip("/").split("/")
        return int(parts[1]) if len(parts) > 1 else None

    n = args.warmup + args.requests

    def draw(pool: list[Any]) -> list[Any]:
        if not pool:
            raise SystemExit("the generated organisation gave nothing to ask for; more --users?")
        return [rng.choice(pool) for _ in range(n)]

    def page(params: dict[str, Any]) -> str:
        return "/people/?" + urlencode(params, doseq=True)

    # Names and words as people type them: one word each, of 4 letters or more (shorter
    # words are matched by prefix only, a different plan; the prefix kinds cover them).
    firsts = [p for p in people if single_word(p.first)]
    lasts = [p for p in people if single_word(p.last)]
    both = [p for p in firsts if single_word(p.last)]
    named = [p.first for p in firsts] + [p.last for p in lasts]
    holders: dict[str, set[int]] = defaultdict(set)
    for p in people:
        for word in words(p.title):
            if len(word) >= 4 and word.isalpha():
                holders[word].add(p.id)
    job_words = sorted(holders)
    common = sorted(w for w, ids in holders.items() if len(ids) > 2 * PAGE_SIZE)
    # Misspellings that are no prefix of any indexed word, so that they go through the
    # typo correction (a misspelling that happens to start another word is a prefix search).
    typos: dict[str, str] = {}  # normalised misspelling → as typed
    for name in named:
        word = single_word(name, 5)
        typo = misspell(rng, name) if word else ""
        if single_word(typo) and single_word(typo) != word:
            typos[single_word(typo)] = typo
    candidates = sorted(typos)
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        for known in TokenVariant.objects.filter(
            kind=VariantKind.PREFIX, variant__in=chunk
        ).values_list("variant", flat=True):
            typos.pop(known, None)
    sites = [
        (pk, w)
        for pk, name, city in Site.objects.values_list("id", "name", "city")
        if (w := single_word(city or name))
    ]
    cities = [city for _, city in sites]
    located = [p for p in lasts if p.site is not None]
    placed = [p for p in lasts if department(p.unit) is not None]
    departments = sorted({d for p in people if (d := department(p.unit)) is not None})

    search_pools: dict[str, list[dict[str, Any]]] = {
        "first name": [{"q": p.first} for p in firsts],
        "last name": [{"q": p.last} for p in lasts],
        "prefix 1-3": [{"q": name[: rng.randint(1, 3)]} for name in named],
        "prefix 4": [{"q": name[:4]} for name in named],
        "typo": [{"q": t} for t in typos.values()],
        "first last": [{"q": f"{p.first} {p.last}"} for p in both],
        "job word": [{"q": w} for w in job_words],
        "site": [{"q": c} for c in cities],
        "name + site": [{"q": p.last, "site": p.site} for p in located],
        "name + unit": [{"q": p.last, "org_unit": department(p.unit)} for p in placed],
        "sort by name": [{"q": w, "sort": "name"} for w in job_words],
        "unit, no words": [{"org_unit": d} for d in departments],
        "page 2": [{"q": w, "page": 2} for w in common],
    }
    kinds = [
        Kind(f"search {shape}", "search", [(shape, page(p)) for p in draw(pool)])
        for shape, pool in search_pools.items()
    ]
    api_shapes = [shape for shape in search_pools if shape != "page 2"]
    api_paths = []
    for _ in range(n):
        shape = rng.choice(api_shapes)
        params = rng.choice(search_pools[shape])
        api_paths.append((shape, "/api/v1/people?" + urlencode(params, doseq=True)))
    kinds.append(Kind("api search mix", "api search", api_paths))

    reports: Counter[int] = Counter(p.manager for p in people if p.manager is not None)
    ceos = [p.id for p in people if p.manager is None]
    with_peers = [p for p in people if p.manager is not None and reports[p.manager] > 1]
    leaves = [p.id for p in with_peers if not reports[p.id]]
    managers = [p.id for p in with_peers if reports[p.id]]
    biggest = [pk for pk, _ in reports.most_common() if pk not in ceos][:BIG_MANAGERS]

    def chart(pool: list[int], shape: str) -> list[tuple[str, str]]:
        return [(shape, f"/people/{pk}/org-chart/") for pk in draw(pool)]

    kinds += [
        Kind("org chart no reports", "org chart", chart(leaves, "no reports")),
        Kind("org chart manager", "org chart", chart(managers, "manager")),
        Kind(f"org chart top {len(biggest)} managers", "org chart", chart(biggest, "big")),
        Kind("org chart CEO", "org chart", chart(ceos, "CEO")),
        # Profiles of people in a team: a head alone in their unit has no colleagues to
        # suggest, and an empty list costs no query (2 fewer), which is not a varying count.
        Kind("profile", "profile", [("profile", f"/people/{pk}/") for pk in draw(leaves)]),
    ]
    teams = [pk for pk in units if pk not in parents and pk not in root_units]
    for name, pool in (("root", root_units), ("department", departments), ("team", teams)):
        kinds.append(
            Kind(f"org unit {name}", "org unit", [(name, f"/org/{pk}/") for pk in draw(pool)])
        )
    print(
        f"drawn from  {len(people):,} employees, {len(units):,} units, {len(sites)} sites, "
        f"{len(typos):,} misspellings, {len(common)} words with {2 * PAGE_SIZE}+ holders, "
        f"most reports {reports.most_common(1)[0][1] if reports else 0}",
        flush=True,
    )
    return kinds


def viewer() -> Any:
    """An ordinary employee: no role, not an administrator (they read more fields)."""
    from essaim.accounts.models import User, UserKind

    staff = User.objects.filter(
        is_active=True, kind=UserKind.EMPLOYEE, is_admin=False, role_set__isnull=True
    ).order_by("id")
    return staff[staff.count() // 2]


# --- Report -------------------------------------------------------------------------------
HEADER = (
    f"{'kind':<30}{'count':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    f"{'SQL p50':>9}{'queries':>9}  constant"
)


def line(name: str, f: dict[str, Any], constant: bool | None, note: str = "") -> str:
    qmin, qmax = f["queries_min"], f["queries_max"]
    queries = "-" if qmin is None else f"{qmin}" if qmin == qmax else f"{qmin}-{qmax}"
    const = "" if constant is None else "yes" if constant else "NO"
    return (
        f"{name:<30}{f['count']:>6}{f['p50']:>9.1f}{f['p95']:>9.1f}{f['p99']:>9.1f}"
        f"{f['max']:>9.1f}{f['sql_p50']:>9.1f}{queries:>9}  {const}{note}"
    ).rstrip()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50_000, help="people to generate (50000)")
    parser.add_argument("--requests", type=int, default=300, help="measured per kind (300)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured first, per kind (20)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=30,
        help="stop a kind after this long even if --requests are not done, and its warm-up "
        "after a quarter of it (30)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="run only the kinds whose name contains TEXT (repeatable), e.g. --only 'org chart'",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to make the throwaway database on (default: DATABASE_URL; "
        "none: SQLite)",
    )
    parser.add_argument(
        "--analyze",
        choices=["auto", "always", "never"],
        default="auto",
        help="ANALYZE after the load (and VACUUM on PostgreSQL): auto = on PostgreSQL only, "
        "as its autovacuum does within a minute (SQLite never analyzes by itself)",
    )
    args = parser.parse_args()
    return in_throwaway_database(args, measure)


def in_throwaway_database(args: argparse.Namespace, run: Any) -> int:
    """``run(args)`` against a fresh database (see Database), removed afterwards whatever
    happens; its exit status."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="essaim-bench-"))
    database = Database()
    try:
        database.create(args.database_url, tmp)
        return int(run(args))
    finally:
        # A second SIGTERM (say, from a `timeout` wrapper that forwards the first one) or
        # a Ctrl-C must not cut the clean-up short and leave the database behind.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            database.drop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


def measure(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from essaim.accounts.models import User
    from essaim.demo import build_organisation
    from essaim.directory.models import OrgUnit

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    build_organisation(users=args.users, seed=args.seed, password=secrets.token_hex(8))
    built = time.perf_counter()
    users, units = User.objects.count(), OrgUnit.objects.count()
    vendor = connection.vendor
    analyze = args.analyze == "always" or (args.analyze == "auto" and vendor == "postgresql")
    if analyze:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
    analyzed = time.perf_counter()
    gc.collect()
    build_rss = peak_rss_mib()
    print(f"database    {vendor} ({connection.settings_dict['NAME']})")
    print(f"migrate     {migrated - started:.1f} s")
    print(
        f"build       {users:,} people, {units:,} org units in "
        f"{built - migrated:.1f} s (essaim.demo.build_organisation, search index included); "
        f"peak RSS {build_rss:,.0f} MiB"
    )
    if analyze:
        print(f"analyze     {analyzed - built:.1f} s")

    rng = random.Random(args.seed)
    kinds = build_kinds(rng, args)
    if args.only:
        kinds = [k for k in kinds if any(text in k.name for text in args.only)]
    me = viewer()
    client = Client(HTTP_HOST=HOST)
    client.force_login(me)
    load = os.getloadavg()[0]
    print(
        f"viewer      user {me.pk} (employee, no role); {args.requests} requests per kind "
        f"after {args.warmup} unmeasured, one at a time, in-process (django.test.Client); "
        f"load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    print(HEADER, flush=True)
    for kind in kinds:
        run_kind(client, kind, args)
        note = " (stopped at --max-seconds)" if kind.stopped_early else ""
        if kind.errors:
            note += f" errors {dict(kind.errors)}"
        print(line(kind.name, figures([kind]), kind.constant(), note), flush=True)

    def members(group: str) -> list[Kind]:
        return [k for k in kinds if k.group == group]

    groups = {
        group: figures(members(group))
        for group in ("search", "api search", "org chart")
        if any(k.ms for k in members(group))
    }
    print("each group as a mix where every kind of request is as likely:")
    for group in ("search", "org chart"):
        if group in groups:
            print(line(f"{group} (all kinds)", groups[group], None))

    def missed(group: str, target: float) -> list[str]:
        return [k.name for k in members(group) if pct(sorted(k.ms), 95) >= target]

    targets: dict[str, Any] = {}
    for key, group, target in (
        ("search", "search", SEARCH_TARGET_MS),
        ("api_search", "api search", SEARCH_TARGET_MS),
        ("org_chart", "org chart", ORG_CHART_TARGET_MS),
    ):
        if group not in groups:
            continue
        p95, over = groups[group]["p95"], missed(group, target)
        targets |= {f"{key}_p95_ms": p95, f"{key}_met": p95 < target, f"{key}_kinds_missed": over}
        verdict = (
            "met" if p95 < target and not over else "met for the mix" if p95 < target else "MISSED"
        )
        where = f" (p95 over it in: {', '.join(over)})" if over and group != "api search" else ""
        print(f"target {group} p95 < {target:g} ms: {p95:.1f} ms, {verdict}{where}")
    varying = [k.name for k in kinds if not k.constant()]
    targets |= {"constant_queries": not varying, "varying_queries": varying}
    print(
        "target constant SQL queries per page: "
        + ("met" if not varying else f"MISSED, varying in: {', '.join(varying)}")
    )
    rss = peak_rss_mib()
    print(f"peak RSS    {rss:,.0f} MiB; load average now {os.getloadavg()[0]:.1f}")
    errors = sum(sum(k.errors.values()) for k in kinds)
    result = {
        "bench": "directory",
        "database": vendor,
        "users": users,
        "org_units": units,
        "build_seconds": round(built - migrated, 2),
        "analyzed": analyze,
        "requests_per_kind": args.requests,
        "warmup": args.warmup,
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
        "kinds": {
            k.name: {
                "group": k.group,
                **figures([k]),
                "queries_by_shape": {s: sorted(set(c)) for s, c in k.queries.items()},
                "constant": k.constant(),
                "errors": sum(k.errors.values()),
                "stopped_early": k.stopped_early,
            }
            for k in kinds
        },
        "groups": groups,
        "targets": targets,
        "peak_rss_mib": round(rss),
        "errors": errors,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the throwaway database is already dropped (finally)
        print("interrupted", file=sys.stderr)
        sys.exit(130)

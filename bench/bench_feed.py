"""The home feed, post creation and the community and post pages on a large organisation.

Builds, in a throwaway PostgreSQL database `essaim_bench_feed` (created on the server of
DATABASE_URL / --database-url, by default postgres://postgres@127.0.0.1:5432/postgres,
and dropped at the end, also on errors, Ctrl-C and SIGTERM; --keep leaves it):

- the demo organisation of --people people (essaim.demo.build_organisation, its own
  posts left out) and --communities more communities with 10-100 members each
  (bench_communities.populate); the measured employee is in --mine of them and, through
  the demo's rules, in the communities of their site and department;
- followers: the employee follows --following people, everyone else about five;
- --posts posts over 90 days and --interactions comments and reactions, streamed with
  COPY (bench/feed_data.py: who writes where, counters, hashtags, polls, file rows).

PostgreSQL is then VACUUM ANALYZEd (as its autovacuum does after a bulk load), and:

(a) in-process, signed in as that employee (django.test.Client, one request at a time;
    server time is the whole Django request): the first page of the home feed
    `GET /api/v1/posts?scope=home` (20 posts, selectors.feed_page with decorate) in the
    "latest" and "relevant" orders, its second page, the home page as HTML and a
    community feed; --requests each after --warmup. Also selectors.feed_page alone, and
    the SQL queries of a 20-post page against a 5-post page (equal: a constant count).
    Target: p95 < 50 ms for the home feed's first page.
(b) post creation `POST /api/v1/posts` with a read-write Bearer token, to the
    employee's communities, under uvicorn with 2 worker processes (Redis for the cache
    and the event bus, as `essaim serve --processes 2` needs), for --seconds at
    --concurrency connections, with wrk and a Lua script (else a small asyncio client):
    posts/s and latency. Target: >= 200 posts/s, p95 < 50 ms.
(c) a community page `GET /c/<slug>/` and a post page `GET /posts/<id>/` as HTML (session
    cookie), on the same 2 processes: requests/s and latency. Target: >= 200 req/s each.

Prints whether each target is met, and one JSON line. Figures are printed, never asserted:
the exit status is non-zero only when requests fail.

    python bench/bench_feed.py                     # 50,000 people, 1,000,000 posts (~20 min)
    python bench/bench_feed.py --quick             # 5,000 / 500 / 50,000 / 150,000 (~3 min)
    python bench/bench_feed.py --only a --keep     # the in-process part, keep the database
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import feed_data
from bench_api_me import (
    READ_TIMEOUT,
    WRK_DONE,
    Result,
    free_port,
    read_status,
    run_wrk,
    stop,
    wait_ready,
)
from bench_communities import populate
from bench_directory import HEADER, Database, Kind, figures, line, peak_rss_mib, run_kind

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DB_NAME = "essaim_bench_feed"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
FEED_TARGET_MS = 50.0
CREATE_TARGET_RPS = 200.0
CREATE_TARGET_MS = 50.0
PAGE_TARGET_RPS = 200.0
WORKERS = 2
QUICK = {"people": 5_000, "communities": 500, "posts": 50_000, "interactions": 150_000}
UVICORN = ["--http", "httptools", "--loop", "uvloop", "--no-access-log", "--lifespan", "off"]


# --- The throwaway database ---------------------------------------------------------------
class NamedDatabase(Database):
    """bench_directory's throwaway database, under a fixed name (a database of that name
    left by an interrupted run is dropped first), so that --keep leaves it for --reuse."""

    def __init__(self, fixed: str, bench: str) -> None:
        self.fixed = fixed
        self.bench = bench  # the script's name, for the messages

    def create(self, url: str, tmp: Path, *, reuse: bool = False) -> None:
        """A new database; or, with ``reuse``, the one an earlier run kept (--keep)."""
        import psycopg
        from psycopg import sql

        os.environ["ESSAIM_VAR_DIR"] = str(tmp / "var")
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise SystemExit(f"{self.bench} needs PostgreSQL, not {parts.scheme or 'SQLite'}:")
        self.admin_url = urlunsplit(parts._replace(scheme="postgresql"))
        self.name = self.fixed
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.name}"))
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if reuse:
                found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name])
                if found.fetchone() is None:
                    raise SystemExit(f"--reuse: no database {self.name}; run with --keep first")
                return
            name = sql.Identifier(self.name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def up_to_date(connection: Any) -> None:
    """A kept database brought to the code's migrations (and analysed again if any ran)."""
    from django.core.management import call_command
    from django.db.migrations.recorder import MigrationRecorder

    applied = MigrationRecorder(connection).migration_qs.count()
    call_command("migrate", verbosity=0)
    if MigrationRecorder(connection).migration_qs.count() != applied:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def run_on(database: NamedDatabase, args: argparse.Namespace, measure: Any) -> int:
    """``measure(args, tmp)`` on the database (built, or reused), then the database dropped
    unless --keep or --reuse, also on errors, SIGTERM and Ctrl-C."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix=f"essaim-{database.bench.removesuffix('.py')}-"))
    try:
        database.create(args.database_url, tmp, reuse=args.reuse)
        return int(measure(args, tmp))
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if args.keep or args.reuse:
                print(f"kept        {os.environ.get('DATABASE_URL')}")
            else:
                database.drop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


# --- (a) in-process -----------------------------------------------------------------------
def timed_calls(call: Any, count: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    spent = []
    for _ in range(count):
        begin = time.perf_counter()
        call()
        spent.append((time.perf_counter() - begin) * 1000)
    return spent


def query_count(call: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def in_process(args: argparse.Namespace, me: Any, busy: Any) -> dict[str, Any]:
    """(a): the home feed and its neighbours, one request at a time, in-process."""
    from django.test import Client

    from essaim.content import selectors

    client = Client(HTTP_HOST=HOST)
    client.force_login(me)
    home = "/api/v1/posts?scope=home"
    first = client.get(home).json()
    assert first["results"], "the viewer's home feed is empty"
    second = f"{home}&cursor={first['next']}"
    n = args.warmup + args.requests
    kinds = [
        Kind("home feed, latest (API)", "home", [("latest", home)] * n),
        Kind("home feed, relevant (API)", "home", [("relevant", f"{home}&order=relevant")] * n),
        Kind("home feed, page 2 (API)", "other", [("page 2", second)] * n),
        Kind("home page (HTML)", "other", [("html", "/")] * n),
        Kind(
            "community feed (API)",
            "other",
            [("community", f"/api/v1/posts?scope=community&community={busy.pk}")] * n,
        ),
    ]
    print(HEADER, flush=True)
    for kind in kinds:
        run_kind(client, kind, args)
        note = f" errors {dict(kind.errors)}" if kind.errors else ""
        print(line(kind.name, figures([kind]), kind.constant(), note), flush=True)

    feed = selectors.Feed(scope="home")
    alone = {}
    for order in ("latest", "relevant"):
        spent = sorted(
            timed_calls(
                lambda order=order: selectors.feed_page(me, feed, order=order),
                args.requests,
                args.warmup,
            )
        )
        alone[order] = {
            "p50": round(spent[len(spent) // 2], 2),
            "p95": round(spent[math.ceil(0.95 * len(spent)) - 1], 2),
            "p99": round(spent[math.ceil(0.99 * len(spent)) - 1], 2),
        }
        print(
            f"selectors.feed_page alone, {order}: p50 {alone[order]['p50']:.1f} ms, "
            f"p95 {alone[order]['p95']:.1f} ms, p99 {alone[order]['p99']:.1f} ms"
        )
    queries = {
        order: {
            size: query_count(
                lambda o=order, s=size: selectors.feed_page(me, feed, order=o, size=s)
            )
            for size in (20, 5)
        }
        for order in ("latest", "relevant")
    }
    for order, by_size in queries.items():
        print(
            f"SQL queries of feed_page, {order}: {by_size[20]} for 20 posts, {by_size[5]} for 5: "
            + ("constant" if by_size[20] == by_size[5] else "NOT constant")
        )
    return {"kinds": kinds, "alone": alone, "queries": queries}


# --- (b), (c): two server processes under load ----------------------------------------------
def start_server(tmp: Path, redis_url: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port, log = free_port(), tmp / "server.log"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="essaim.settings")
    if redis_url:
        env |= {"REDIS_URL": redis_url, "ESSAIM_REDIS_PREFIX": f"essaim-bench-feed-{os.getpid()}"}
    command = [sys.executable, "-m", "uvicorn", "essaim.asgi:application", "--host", HOST]
    command += ["--port", str(port), "--workers", str(WORKERS), *UVICORN, "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return proc, port, log


WRK_POSTS = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local bodies = {{ {bodies} }}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


async def _loop(
    port: int,
    requests: list[bytes],
    ok: set[int],
    deadline: float,
    latencies: list[float],
    errors: list[int],
    offset: int,
) -> None:
    """One keep-alive connection sending the requests in turn until the deadline."""
    writer = None
    i = offset
    while time.perf_counter() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += 1
            status = await asyncio.wait_for(read_status(reader), READ_TIMEOUT)
            latencies.append(time.perf_counter() - started)
            if status not in ok:
                errors.append(status)
        except (OSError, EOFError, ValueError, TimeoutError, asyncio.IncompleteReadError):
            errors.append(0)
            if writer is not None:
                writer.close()
            writer = None
    if writer is not None:
        writer.close()


def python_load(
    port: int, requests: list[bytes], ok: set[int], seconds: float, concurrency: int
) -> Result:
    """bench_api_me's asyncio client, for any requests (POST too) and accepted statuses."""
    latencies: list[float] = []
    errors: list[int] = []

    async def run() -> float:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(_loop(port, requests, ok, deadline, latencies, errors, i) for i in range(concurrency))
        )
        return time.perf_counter() - started

    try:
        import uvloop
    except ImportError:
        elapsed = asyncio.run(run())
    else:
        elapsed = uvloop.run(run())
    ordered = sorted(latencies) or [0.0]

    def p(q: float) -> float:
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] * 1000

    return Result(len(latencies), len(errors), elapsed, p(50), p(95), p(99))


def raw_request(
    method: str, port: int, path: str, headers: dict[str, str], body: str = ""
) -> bytes:
    data = body.encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if data:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def load(
    client: str,
    port: int,
    tmp: Path,
    args: argparse.Namespace,
    seconds: float,
    *,
    path: str,
    headers: dict[str, str],
    posts: list[str] | None = None,
    token: str = "",
) -> Result:
    """``seconds`` of load on ``path``: GETs with ``headers``, or POSTs of ``posts``."""
    if client == "wrk":
        script = tmp / "load.lua"
        lua = WRK_DONE
        if posts is not None:
            bodies = ", ".join(lua_string(p) for p in posts)
            lua = WRK_POSTS.format(token=token, bodies=bodies) + WRK_DONE
        script.write_text(lua)
        return run_wrk(port, path, headers, seconds, args.concurrency, script)
    if posts is not None:
        auth = {"Authorization": f"Bearer {token}"}
        requests = [raw_request("POST", port, path, auth, body) for body in posts]
        return python_load(port, requests, {201}, seconds, args.concurrency)
    return python_load(
        port, [raw_request("GET", port, path, headers)], {200}, seconds, args.concurrency
    )


def under_load(
    args: argparse.Namespace, tmp: Path, me: Any, password: str, busy: Any, post: Any
) -> dict[str, Any]:
    """(b) post creation through the API and (c) the community and post pages, against
    WORKERS server processes."""
    from django.db import connections
    from django.test import Client

    from essaim.accounts.models import TokenScope
    from essaim.accounts.services import token_create
    from essaim.communities.models import WRITERS, Membership
    from essaim.content.models import Post

    client = (
        "wrk"
        if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        else "python"
    )
    _token, token = token_create(user=me, name="bench", scope=TokenScope.WRITE, password=password)
    places = list(
        Membership.objects.filter(
            user=me, role__in=WRITERS, community__archived_at__isnull=True
        ).values_list("community_id", flat=True)
    )
    rng = random.Random(args.seed + 1)
    texts = feed_data.texts(rng)[:200]
    bodies = [
        json.dumps({"body": text.body, "community": rng.choice(places)}, ensure_ascii=False)
        for text in texts
    ]
    browser = Client(HTTP_HOST=HOST)
    browser.force_login(me)
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    auth = {"Authorization": f"Bearer {token}"}
    before = Post.objects.count()
    connections.close_all()
    results: dict[str, Any] = {"client": client, "concurrency": args.concurrency}
    proc, port, log = start_server(tmp, args.redis_url)
    try:
        wait_ready(proc, log, port, "/api/v1/me", auth)
        if "b" in args.only:
            load(
                client,
                port,
                tmp,
                args,
                2,
                path="/api/v1/posts",
                headers={},
                posts=bodies,
                token=token,
            )
            counted = Post.objects.count()
            connections.close_all()
            found = load(
                client, port, tmp, args, args.seconds, path="/api/v1/posts", headers={},
                posts=bodies, token=token,
            )  # fmt: skip
            created = Post.objects.count() - counted
            connections.close_all()
            results["create"] = {"result": found, "created": created}
        pages = (("community page", f"/c/{busy.slug}/"), ("post page", f"/posts/{post.pk}/"))
        if "c" in args.only:
            for name, path in pages:
                wait_ready(proc, log, port, path, cookie)
                load(client, port, tmp, args, 2, path=path, headers=cookie)
                results[name] = {
                    "result": load(
                        client, port, tmp, args, args.seconds, path=path, headers=cookie
                    ),
                    "path": path,
                }
    finally:
        stop(proc)
    results["posts_before"] = before
    return results


# --- Main -----------------------------------------------------------------------------------
def report_line(name: str, r: Result, note: str = "") -> str:
    return (
        f"{name:<30}{r.rps:>9,.0f}{r.p50:>9.1f}{r.p95:>9.1f}{r.p99:>9.1f}"
        f"{r.requests:>10,}{r.errors:>8,}  {note}"
    ).rstrip()


def busiest(me: Any) -> tuple[Any, Any]:
    """The viewer's busiest community, and a post there with about ten comments."""
    from django.db.models import Count

    from essaim.communities.models import Community, Membership
    from essaim.content.models import Post

    mine = Membership.objects.filter(user=me).values("community")
    busy = (
        Community.objects.filter(pk__in=mine, archived_at__isnull=True)
        .annotate(n=Count("posts"))
        .order_by("-n")
        .first()
    )
    post = (
        Post.objects.filter(community=busy, comment_count__gte=8, comment_count__lte=15)
        .order_by("-created_at")
        .first()
    ) or Post.objects.filter(community=busy).order_by("-comment_count").first()
    return busy, post


def build(args: argparse.Namespace) -> tuple[Any, str, dict[str, Any]]:
    """The organisation, communities, follows, posts and interactions; VACUUM ANALYZE.
    The viewer's id is kept in the database's comment, for --reuse."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from essaim.accounts.models import User, UserKind
    from essaim.demo import DEMO_ADMIN_EMAIL, build_organisation

    rng = random.Random(args.seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    password = secrets.token_hex(8)
    build_organisation(users=args.people, seed=args.seed, password=password, content_scale=0)
    built = time.perf_counter()
    me, memberships = populate(args, rng)
    populated = time.perf_counter()
    staff = sorted(
        User.objects.filter(is_active=True, kind=UserKind.EMPLOYEE).values_list("pk", flat=True)
    )
    announcer = User.objects.get(email=DEMO_ADMIN_EMAIL).pk
    with transaction.atomic():
        follows = feed_data.add_follows(rng, me.pk, staff, args.following)
        counts = feed_data.generate(
            rng, posts=args.posts, interactions=args.interactions, staff=staff, announcer=announcer
        )
    generated = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    analyzed = time.perf_counter()
    print(f"database    postgresql ({connection.settings_dict['NAME']}), {size / 2**30:.1f} GiB")
    print(
        f"build       {args.people:,} people in {built - started:.0f} s; {args.communities:,} "
        f"communities, {memberships:,} memberships in {populated - built:.0f} s"
    )
    print(
        f"generate    {counts['posts']:,} posts, {counts['comments']:,} comments "
        f"({counts['replies']:,} replies), {counts['reactions']:,} reactions, "
        f"{counts['hashtags']:,} hashtags, {counts['polls']:,} polls, {counts['files']:,} files, "
        f"{follows:,} follows in {generated - populated:.0f} s; VACUUM ANALYZE "
        f"{analyzed - generated:.0f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON DATABASE {DB_NAME} IS 'bench_feed viewer={me.pk}'")
    return (
        me,
        password,
        {
            "bench": "feed",
            "people": args.people,
            "communities": args.communities,
            "counts": counts,
            "follows": follows,
            "database_gib": round(size / 2**30, 2),
            "build_seconds": round(generated - started),
            "targets": {},
        },
    )


def reused() -> tuple[Any, str, dict[str, Any]]:
    """The viewer and the sizes of a database kept by an earlier run."""
    from django.db import connection

    from essaim.accounts.models import User
    from essaim.content.models import Comment, Post, Reaction

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        note = cursor.fetchone()[0] or ""
    if not note.startswith("bench_feed viewer="):
        raise SystemExit(f"--reuse: {DB_NAME} was not built by bench_feed.py")
    up_to_date(connection)
    me = User.objects.get(pk=int(note.split("=")[1]))
    password = secrets.token_hex(8)
    me.set_password(password)  # for the API token; the database is a throwaway one
    me.save(update_fields=["password"])
    counts = {
        "posts": Post.objects.count(),
        "comments": Comment.objects.count(),
        "reactions": Reaction.objects.count(),
    }
    print(
        f"database    postgresql ({connection.settings_dict['NAME']}), reused: "
        f"{counts['posts']:,} posts, {counts['comments']:,} comments, "
        f"{counts['reactions']:,} reactions"
    )
    people = User.objects.count()
    return me, password, {"bench": "feed", "people": people, "counts": counts, "targets": {}}


def measure(args: argparse.Namespace, tmp: Path) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
    import django

    django.setup()
    if args.reuse:
        me, password, result = reused()
    else:
        me, password, result = build(args)
    gc.collect()
    from essaim.communities.models import Membership
    from essaim.content import selectors

    mine = Membership.objects.filter(user=me).count()
    in_feed = selectors.post_queryset(me, selectors.Feed(scope="home")).count()
    busy, post = busiest(me)
    print(
        f"viewer      user {me.pk}: in {mine} communities, follows {args.following}, "
        f"{in_feed:,} posts in the home feed; busiest community {busy.slug} "
        f"({busy.n:,} posts); post page {post.pk} ({post.comment_count} comments); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    errors = 0
    targets = result["targets"]
    if "a" in args.only:
        print(f"\n(a) in-process, {args.requests} requests per kind after {args.warmup}")
        found = in_process(args, me, busy)
        kinds = found["kinds"]
        errors += sum(sum(k.errors.values()) for k in kinds)
        result["in_process"] = {k.name: figures([k]) | {"constant": k.constant()} for k in kinds}
        result["feed_page_alone"] = found["alone"]
        result["queries"] = found["queries"]
        for kind in kinds[:2]:
            p95 = figures([kind])["p95"]
            met = p95 < FEED_TARGET_MS
            targets[kind.name] = {"p95_ms": p95, "met": met}
            print(
                f"target {kind.name} p95 < {FEED_TARGET_MS:g} ms: {p95:.1f} ms, "
                f"{'met' if met else 'MISSED'}"
            )
        constant = all(q[20] == q[5] for q in found["queries"].values())
        targets["constant queries"] = {"met": constant}
        print(f"target constant SQL queries (20 posts vs 5): {'met' if constant else 'MISSED'}")
    if "b" in args.only or "c" in args.only:
        print(
            f"\n(b, c) uvicorn, {WORKERS} worker processes"
            f"{', Redis' if args.redis_url else ''}; {args.concurrency} connections, "
            f"{args.seconds:g} s each after 2 s of warm-up"
        )
        loaded = under_load(args, tmp, me, password, busy, post)
        print(
            f"load: {loaded['client']}\n{'kind':<30}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'requests':>10}{'errors':>8}"
        )
        if "create" in loaded:
            r, created = loaded["create"]["result"], loaded["create"]["created"]
            rate = created / r.seconds if r.seconds else 0.0
            print(report_line("create post (API)", r, f"{created:,} posts created, {rate:,.0f}/s"))
            errors += r.errors
            met = rate >= CREATE_TARGET_RPS and r.p95 < CREATE_TARGET_MS
            targets["create post"] = {
                "posts_per_s": round(rate, 1),
                "p95_ms": round(r.p95, 1),
                "met": met,
            }
            result["create"] = {
                "rps": round(r.rps, 1),
                "posts_per_s": round(rate, 1),
                "p50": r.p50,
                "p95": r.p95,
                "p99": r.p99,
                "errors": r.errors,
            }
        for name in ("community page", "post page"):
            if name in loaded:
                r = loaded[name]["result"]
                print(report_line(f"{name} (HTML)", r, loaded[name]["path"]))
                errors += r.errors
                targets[name] = {
                    "rps": round(r.rps, 1),
                    "p95_ms": round(r.p95, 1),
                    "met": r.rps >= PAGE_TARGET_RPS,
                }
                result[name] = {
                    "rps": round(r.rps, 1),
                    "p50": r.p50,
                    "p95": r.p95,
                    "p99": r.p99,
                    "errors": r.errors,
                }
        if "create post" in targets:
            t = targets["create post"]
            print(
                f"target create >= {CREATE_TARGET_RPS:g} posts/s and p95 < "
                f"{CREATE_TARGET_MS:g} ms: {t['posts_per_s']:,.0f}/s, {t['p95_ms']:.1f} ms, "
                f"{'met' if t['met'] else 'MISSED'}"
            )
        for name in ("community page", "post page"):
            if name in targets:
                t = targets[name]
                print(
                    f"target {name} >= {PAGE_TARGET_RPS:g} req/s: {t['rps']:,.0f} req/s "
                    f"(p95 {t['p95_ms']:.1f} ms), {'met' if t['met'] else 'MISSED'}"
                )
    rss = peak_rss_mib()
    print(f"peak RSS    {rss:,.0f} MiB; load average now {os.getloadavg()[0]:.1f}")
    result |= {"peak_rss_mib": round(rss), "errors": errors}
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", "--users", type=int, default=50_000)
    parser.add_argument("--communities", type=int, default=5_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=3_000_000, help="comments + reactions")
    parser.add_argument("--mine", type=int, default=50, help="communities of the viewer (50)")
    parser.add_argument("--following", type=int, default=100, help="people the viewer follows")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: " + ", ".join(f"{k} {v:,}" for k, v in QUICK.items()),
    )
    parser.add_argument("--requests", type=int, default=300, help="in-process, per kind (300)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=120, help="cap per in-process kind")
    parser.add_argument("--seconds", type=float, default=20, help="load per server kind (20)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections under load (8)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--only", default="abc", help="parts to run among a, b, c (abc)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help='for the server processes; "" for none',
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", DEFAULT_SERVER),
        help="the PostgreSQL server (its admin connection)",
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DB_NAME}")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help=f"measure again on the database {DB_NAME} kept by --keep (no build; kept)",
    )
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
        if args.mine == parser.get_default("mine"):
            args.mine = 30
    return run_on(NamedDatabase(DB_NAME, "bench_feed.py"), args, measure)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

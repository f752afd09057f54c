"""Questions and answers on a large organisation: the question page, the question list and
expert suggestions, in-process and under two server processes.

Builds, in a throwaway PostgreSQL database `essaim_bench_knowledge` (created on the server
of DATABASE_URL / --database-url, by default postgres://postgres@127.0.0.1:5432/postgres,
and dropped at the end, also on errors, Ctrl-C and SIGTERM; --keep leaves it):

- the demo organisation of --people people (essaim.demo.build_organisation, its own posts
  and questions left out) and --communities more communities with 10-100 members each
  (bench_communities.populate); the measured employee is in --mine of them and, through
  the demo's rules, in the communities of their site and department;
- --questions questions over two years, 60 % in communities and 40 % company-wide, tagged
  from a vocabulary of 2,000 tags that holds the directory topics' names; --answers
  answers (at least one per question, heavy-tailed: some questions get 50 and more),
  --votes votes and --comments comments, ~40 % of the questions with an accepted answer,
  streamed with COPY (bench/knowledge_data.py: who asks and answers where, counters).

PostgreSQL is then VACUUM ANALYZEd (as its autovacuum does after a bulk load), and:

(a) in-process, signed in as that employee (django.test.Client, one request at a time;
    server time is the whole Django request), --requests of each after --warmup:
    the question page `GET /questions/<id>/` of a question with about 20 answers in a
    community the employee reads, of a company-wide one, of the question with the most
    answers, and of a question in a community the employee runs (who, as its asker, also
    sees the people who may know); the question list `GET /questions/` (first page) and
    `GET /api/v1/questions`; the fragment of similar questions and experts shown while a
    question is typed, `GET /questions/similar/?q=…&tags=…`, for NEW_QUESTIONS generated
    titles and tags. Then `knowledge.selectors.suggested_experts` and `similar` alone for
    the same new questions, and the SQL queries of question pages with one answer, about
    20 and the most (equal within a place: a constant count; a community's page reads the
    viewer's role there, one query more than a company-wide one). Targets: question page
    p95 < 40 ms with a constant number of queries; expert suggestions p95 < 100 ms.
    --explain prints, per kind, the slowest queries of one request and the EXPLAIN
    ANALYZE of the slowest.
(b) the question page and the question list as HTML (session cookie) under uvicorn with 2
    worker processes (Redis for the cache and the event bus, as `essaim serve --processes
    2` needs), for --seconds at --concurrency connections with wrk (else a small asyncio
    client): requests/s and latency. Targets: >= 300 req/s for the question page and
    >= 150 req/s for the list.

Prints whether each target is met, and one JSON line. Figures are printed, never asserted:
the exit status is non-zero only when requests fail.

    python bench/bench_knowledge.py              # 50,000 people, 200,000 questions, 1 M answers
    python bench/bench_knowledge.py --quick      # 5,000 / 20,000 / 100,000, fewer requests (~3 min)
    python bench/bench_knowledge.py --keep       # keep the database, then …
    python bench/bench_knowledge.py --reuse --only a --explain   # … measure it again
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import knowledge_data
from bench_api_me import stop, wait_ready
from bench_communities import populate
from bench_directory import HEADER, Kind, figures, line, pct, peak_rss_mib, run_kind
from bench_feed import (
    NamedDatabase,
    load,
    query_count,
    report_line,
    run_on,
    start_server,
    up_to_date,
)

HOST = "127.0.0.1"
DB_NAME = "essaim_bench_knowledge"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
PAGE_TARGET_MS = 40.0
EXPERTS_TARGET_MS = 100.0
PAGE_TARGET_RPS = 300.0
LIST_TARGET_RPS = 150.0
WORKERS = 2  # start_server's (bench_feed.py)
ANSWERS_SHOWN = 20  # the measured question pages have about this many answers
NEW_QUESTIONS = 50  # titles and tags of questions being asked
QUICK = {"people": 5_000, "communities": 500, "questions": 20_000, "answers": 100_000}
QUICK_RUN = {"requests": 100, "seconds": 10}  # --quick measures less, too: a smoke run


# --- The throwaway database ---------------------------------------------------------------
# --- What is measured -----------------------------------------------------------------------
def pick_questions(me: Any) -> dict[str, Any]:
    """Questions the viewer reads, in one of their communities and company-wide: with
    about ANSWERS_SHOWN answers (the measured pages), with one, and with the most. The
    communities are those where the viewer is a plain member: there, as company-wide,
    they may answer, vote and comment but not accept, so every page has one shape. Also,
    when there is one, a question still without an accepted answer in a community the
    viewer runs: its page adds the people who may know (as the asker's does)."""
    from django.db.models import F
    from django.db.models.functions import Abs

    from essaim.communities.models import RUNNERS, Membership, Role
    from essaim.knowledge import selectors
    from essaim.knowledge.models import QuestionState

    readable = selectors.questions(me)
    mine = Membership.objects.filter(user=me)
    places = {
        "community": readable.filter(
            community__in=mine.filter(role=Role.MEMBER).values("community")
        ),
        "company-wide": readable.filter(community__isnull=True),
    }
    picked = {}
    for place, found in places.items():
        for size, wanted in (("", ANSWERS_SHOWN), (", one answer", 1)):
            gap = Abs(F("answer_count") - wanted)
            picked[place + size] = found.order_by(gap, "-activity_at").first()
        picked[place + ", most answers"] = found.order_by("-answer_count", "-id").first()
    missing = [name for name, question in picked.items() if question is None]
    if missing:
        raise SystemExit(f"no question to measure: {', '.join(missing)}; more --questions?")
    run = readable.filter(
        community__in=mine.filter(role__in=RUNNERS).values("community"),
        state=QuestionState.ANSWERED,
    )
    gap = Abs(F("answer_count") - ANSWERS_SHOWN)
    picked["runner"] = run.order_by(gap, "-activity_at").first()
    return picked


def similar_path(title: str, tags: list[str]) -> str:
    return "/questions/similar/?" + urlencode({"q": title, "tags": " ".join(tags)})


def time_calls(
    calls: list[Any], args: argparse.Namespace
) -> tuple[list[float], list[Any], list[int]]:
    """--warmup unmeasured calls, then --requests measured ones, cycling through ``calls``:
    the times (ms), what the calls returned and their query counts. Like run_kind, it
    stops after --max-seconds (the warm-up after a quarter of it), and the query capture
    is inside the timer."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    for i in range(args.warmup):
        calls[i % len(calls)]()
        if time.perf_counter() - started > args.max_seconds / 4:
            break
    spent, returned, queries = [], [], []
    started = time.perf_counter()
    for i in range(args.requests):
        reset_queries()
        begin = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            returned.append(calls[i % len(calls)]())
        spent.append((time.perf_counter() - begin) * 1000)
        queries.append(len(captured))
        if time.perf_counter() - started > args.max_seconds:
            break
    return spent, returned, queries


def summary(spent: list[float], queries: list[int], asks: list[Any]) -> dict[str, Any]:
    """Percentiles of calls cycling through ``asks``, and the ask of the slowest call."""
    ordered = sorted(spent)
    slowest = max(range(len(spent)), key=spent.__getitem__)
    return {
        "slowest": asks[slowest % len(asks)],
        "count": len(ordered),
        "p50": round(pct(ordered, 50), 2),
        "p95": round(pct(ordered, 95), 2),
        "p99": round(pct(ordered, 99), 2),
        "max": round(ordered[-1], 2),
        "queries_min": min(queries),
        "queries_max": max(queries),
    }


def explain(label: str, call: Any, top: int = 3) -> None:
    """The ``top`` slowest queries of one ``call``, and the plan of the slowest
    (EXPLAIN ANALYZE: it runs again, on warm caches)."""
    from django.db import connection

    seen: list[tuple[float, str, Any]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        begin = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append(((time.perf_counter() - begin) * 1000, sql, params))

    with connection.execute_wrapper(timed):
        call()
    total = sum(ms for ms, _, _ in seen)
    print(f"\n-- {label}: {len(seen)} queries, {total:.1f} ms of SQL; the slowest:")
    slowest = sorted(seen, key=lambda q: -q[0])[:top]
    for ms, sql, _ in slowest:
        short = " ".join(sql.split())
        print(f"   {ms:7.2f} ms  {short[:150]}{'…' if len(short) > 150 else ''}")
    ms, sql, params = slowest[0]
    if not sql.lstrip().upper().startswith("SELECT"):
        return
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    for row in plan[:40]:
        print(f"   | {row}")
    if len(plan) > 40:
        print(f"   | … ({len(plan) - 40} more lines)")


def in_process(
    args: argparse.Namespace, me: Any, picked: dict[str, Any], asks: list[tuple[str, list[str]]]
) -> dict[str, Any]:
    """(a): the question pages, the lists and the similar fragment as requests, one at a
    time, in-process; expert suggestions alone; the queries of pages of every size."""
    from django.test import Client

    from essaim.knowledge import selectors

    client = Client(HTTP_HOST=HOST)
    client.force_login(me)
    n = args.warmup + args.requests
    most = picked["community, most answers"]
    kinds = [
        Kind(
            "question page, community",
            "page",
            [("page", f"/questions/{picked['community'].pk}/")] * n,
        ),
        Kind(
            "question page, company-wide",
            "page",
            [("page", f"/questions/{picked['company-wide'].pk}/")] * n,
        ),
        Kind(
            f"question page, {most.answer_count} answers",
            "other",
            [("page", f"/questions/{most.pk}/")] * n,
        ),
        Kind("question list (HTML)", "list", [("list", "/questions/")] * n),
        Kind("question list (API)", "list", [("api", "/api/v1/questions")] * n),
        Kind(
            "similar + experts (HTML)",
            "similar",
            [
                (f"ask {i % len(asks)}", similar_path(*asks[i % len(asks)]))
                for i in range(-args.warmup, args.requests)  # the first measured is ask 0
            ],
        ),
    ]
    if picked["runner"] is not None:
        runner = Kind(
            "question page, runner's view",
            "other",
            [("page", f"/questions/{picked['runner'].pk}/")] * n,
        )
        kinds.insert(3, runner)
    print(HEADER, flush=True)
    for kind in kinds:
        run_kind(client, kind, args)
        note = f" errors {dict(kind.errors)}" if kind.errors else ""
        print(line(kind.name, figures([kind]), kind.constant(), note), flush=True)

    # Expert suggestions alone, as the ask page asks for them; then similar questions.
    def experts_call(title: str, tags: list[str]) -> Any:
        return lambda: selectors.suggested_experts(me, title=title, tags=tags, exclude=[me.pk])

    spent, found, queries = time_calls([experts_call(*ask) for ask in asks], args)
    first = found[: len(asks)]  # one call per new question (fewer when cut short)
    experts = summary(spent, queries, asks) | {
        "mean_found": round(sum(len(f) for f in first) / len(first), 2),
        "none_found": sum(1 for f in first if not f),
        "topics_per_question": round(
            sum(len(selectors.topics_of(title, tags)) for title, tags in asks) / len(asks), 2
        ),
    }
    spent, _, queries = time_calls(
        [lambda title=title: selectors.similar(me, title) for title, _ in asks], args
    )
    similar = summary(spent, queries, asks)
    for name, f in (("suggested_experts alone", experts), ("selectors.similar alone", similar)):
        qmin, qmax = f["queries_min"], f["queries_max"]
        print(
            f"{name:<30}{f['count']:>6}{f['p50']:>9.1f}{f['p95']:>9.1f}{f['p99']:>9.1f}"
            f"{f['max']:>9.1f}{'':>9}{qmin if qmin == qmax else f'{qmin}-{qmax}':>9}"
        )
    for name, f in (("suggested_experts", experts), ("similar", similar)):
        title, tags = f["slowest"]
        print(f"slowest {name}: {title!r}, tags {' '.join(tags)}")
    print(
        f"experts: {experts['mean_found']} found per new question on average "
        f"({experts['none_found']} of {len(first)} without any), "
        f"{experts['topics_per_question']} directory topics per question"
    )

    # A constant number of queries: pages of one answer, about 20 and the most.
    counts = {
        name: query_count(lambda q=question: client.get(f"/questions/{q.pk}/"))
        for name, question in picked.items()
        if name != "runner"
    }
    # A page in a community reads the viewer's role there: one query more than a
    # company-wide one, whatever the number of answers. Constant: the same within a place.
    constant = True
    for place in ("community", "company-wide"):
        names = (f"{place}, one answer", place, f"{place}, most answers")
        same = len({counts[name] for name in names}) == 1
        constant = constant and same
        shown = [f"{picked[name].answer_count} answers: {counts[name]}" for name in names]
        print(
            f"SQL queries of a question page, {place}: {', '.join(shown)}: "
            + ("constant" if same else "NOT constant")
        )

    if args.explain:
        for kind in kinds:
            path = kind.paths[-1][1]
            explain(f"{kind.name}, GET {path[:80]}", lambda p=path: client.get(p))
        title, tags = asks[0]
        explain(
            f"suggested_experts({title!r}, {tags})",
            lambda: selectors.suggested_experts(me, title=title, tags=tags, exclude=[me.pk]),
        )
    return {
        "kinds": kinds,
        "experts": experts,
        "similar": similar,
        "queries": {name: {"answers": picked[name].answer_count, "queries": c}
                    for name, c in counts.items()},
        "constant": constant,
    }  # fmt: skip


# --- (b): two server processes under load ----------------------------------------------------
def under_load(args: argparse.Namespace, tmp: Path, me: Any, page: Any) -> dict[str, Any]:
    """The question page and the question list as HTML, against WORKERS processes."""
    from django.db import connections
    from django.test import Client

    client = (
        "wrk"
        if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        else "python"
    )
    browser = Client(HTTP_HOST=HOST)
    browser.force_login(me)
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    connections.close_all()
    results: dict[str, Any] = {"client": client, "concurrency": args.concurrency}
    proc, port, log = start_server(tmp, args.redis_url)
    try:
        for name, path in (
            ("question page", f"/questions/{page.pk}/"),
            ("question list", "/questions/"),
        ):
            wait_ready(proc, log, port, path, cookie)
            load(client, port, tmp, args, 2, path=path, headers=cookie)
            found = load(client, port, tmp, args, args.seconds, path=path, headers=cookie)
            results[name] = {"result": found, "path": path}
    finally:
        stop(proc)
    return results


# --- Main -----------------------------------------------------------------------------------
def build(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The organisation, communities, questions, answers, votes and comments; VACUUM
    ANALYZE. The viewer's id is kept in the database's comment, for --reuse."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from essaim.accounts.models import User, UserKind
    from essaim.demo import build_organisation

    rng = random.Random(args.seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    build_organisation(
        users=args.people, seed=args.seed, password=secrets.token_hex(8), content_scale=0
    )
    built = time.perf_counter()
    me, memberships = populate(args, rng)
    populated = time.perf_counter()
    staff = sorted(
        User.objects.filter(is_active=True, kind=UserKind.EMPLOYEE).values_list("pk", flat=True)
    )
    with transaction.atomic():
        counts = knowledge_data.generate(
            rng,
            seed=args.seed,
            questions=args.questions,
            answers=args.answers,
            votes=args.votes,
            comments=args.comments,
            staff=staff,
        )
    generated = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    analyzed = time.perf_counter()
    problems = knowledge_data.check()
    print(f"database    postgresql ({connection.settings_dict['NAME']}), {size / 2**30:.1f} GiB")
    print(
        f"build       {args.people:,} people in {built - started:.0f} s; {args.communities:,} "
        f"communities, {memberships:,} memberships in {populated - built:.0f} s"
    )
    print(
        f"generate    {counts['questions']:,} questions ({counts['in_communities']:,} in "
        f"communities, {counts['accepted']:,} accepted), {counts['tags']:,} tags of "
        f"{counts['vocabulary']:,} ({counts['topic_tags']} directory topics), "
        f"{counts['answers']:,} answers (at most {counts['max_answers']}, "
        f"{counts['questions_50_answers']:,} questions with 50+), {counts['votes']:,} votes, "
        f"{counts['comments']:,} comments in {generated - populated:.0f} s; VACUUM ANALYZE "
        f"{analyzed - generated:.0f} s"
    )
    for problem in problems:
        print(f"generator   WRONG: {problem}")
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON DATABASE {DB_NAME} IS 'bench_knowledge viewer={me.pk}'")
    return me, {
        "bench": "knowledge",
        "people": args.people,
        "communities": args.communities,
        "counts": counts,
        "database_gib": round(size / 2**30, 2),
        "build_seconds": round(analyzed - started),
        "generator_problems": problems,
        "targets": {},
    }


def reused() -> tuple[Any, dict[str, Any]]:
    """The viewer and the sizes of a database kept by an earlier run."""
    from django.db import connection

    from essaim.accounts.models import User
    from essaim.knowledge.models import Answer, Question

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        note = cursor.fetchone()[0] or ""
    if not note.startswith("bench_knowledge viewer="):
        raise SystemExit(f"--reuse: {DB_NAME} was not built by bench_knowledge.py")
    up_to_date(connection)
    me = User.objects.get(pk=int(note.split("=")[1]))
    counts = {"questions": Question.objects.count(), "answers": Answer.objects.count()}
    print(
        f"database    postgresql ({connection.settings_dict['NAME']}), reused: "
        f"{counts['questions']:,} questions, {counts['answers']:,} answers"
    )
    people = User.objects.count()
    return me, {"bench": "knowledge", "people": people, "counts": counts, "targets": {}}


def measure(args: argparse.Namespace, tmp: Path) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
    import django

    django.setup()
    me, result = reused() if args.reuse else build(args)
    gc.collect()
    from essaim.communities.models import Membership
    from essaim.knowledge import selectors
    from essaim.knowledge.models import AnswerComment

    picked = pick_questions(me)
    page = picked["community"]
    comments = AnswerComment.objects.filter(answer__question=page).count()
    print(
        f"viewer      user {me.pk}: in {Membership.objects.filter(user=me).count()} "
        f"communities, reads {selectors.questions(me).count():,} questions; question page "
        f"{page.pk} in a community ({page.answer_count} answers, {comments} comments), "
        f"{picked['company-wide'].pk} company-wide "
        f"({picked['company-wide'].answer_count} answers); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    vocab = knowledge_data.vocabulary(args.seed)
    asks = knowledge_data.new_questions(args.seed + 7, vocab, NEW_QUESTIONS)
    errors = 0
    targets = result["targets"]
    if "a" in args.only:
        print(f"\n(a) in-process, {args.requests} requests per kind after {args.warmup}")
        found = in_process(args, me, picked, asks)
        kinds = found["kinds"]
        errors += sum(sum(k.errors.values()) for k in kinds)
        result["in_process"] = {k.name: figures([k]) | {"constant": k.constant()} for k in kinds}
        result |= {k: found[k] for k in ("experts", "similar", "queries")}
        for kind in kinds[:2]:
            p95 = figures([kind])["p95"]
            met = p95 < PAGE_TARGET_MS and found["constant"]
            targets[kind.name] = {"p95_ms": p95, "constant": found["constant"], "met": met}
            print(
                f"target {kind.name} p95 < {PAGE_TARGET_MS:g} ms, constant queries: "
                f"{p95:.1f} ms, {'constant' if found['constant'] else 'NOT constant'}, "
                f"{'met' if met else 'MISSED'}"
            )
        p95 = found["experts"]["p95"]
        met = p95 < EXPERTS_TARGET_MS
        targets["expert suggestions"] = {"p95_ms": p95, "met": met}
        print(
            f"target expert suggestions p95 < {EXPERTS_TARGET_MS:g} ms: {p95:.1f} ms, "
            f"{'met' if met else 'MISSED'}"
        )
    if "b" in args.only:
        print(
            f"\n(b) uvicorn, {WORKERS} worker processes"
            f"{', Redis' if args.redis_url else ''}; {args.concurrency} connections, "
            f"{args.seconds:g} s each after 2 s of warm-up"
        )
        loaded = under_load(args, tmp, me, page)
        print(
            f"load: {loaded['client']}\n{'kind':<30}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'requests':>10}{'errors':>8}"
        )
        wanted = {"question page": PAGE_TARGET_RPS, "question list": LIST_TARGET_RPS}
        for name, rps in wanted.items():
            r = loaded[name]["result"]
            print(report_line(f"{name} (HTML)", r, loaded[name]["path"]))
            errors += r.errors
            targets[f"{name} throughput"] = {
                "rps": round(r.rps, 1),
                "p95_ms": round(r.p95, 1),
                "met": r.rps >= rps,
            }
            result[name] = {
                "rps": round(r.rps, 1),
                "p50": r.p50,
                "p95": r.p95,
                "p99": r.p99,
                "errors": r.errors,
            }
        for name, rps in wanted.items():
            t = targets[f"{name} throughput"]
            print(
                f"target {name} >= {rps:g} req/s: {t['rps']:,.0f} req/s "
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
    parser.add_argument("--questions", type=int, default=200_000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--votes", type=int, default=None, help="votes on answers (= --answers)")
    parser.add_argument(
        "--comments", type=int, default=None, help="comments under answers (--answers / 5)"
    )
    parser.add_argument("--mine", type=int, default=50, help="communities of the viewer (50)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: " + ", ".join(f"{k} {v:,}" for k, v in (QUICK | QUICK_RUN).items()),
    )
    parser.add_argument("--requests", type=int, default=300, help="in-process, per kind (300)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=120, help="cap per in-process kind")
    parser.add_argument("--seconds", type=float, default=20, help="load per server kind (20)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections under load (8)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--only", default="ab", help="parts to run among a, b (ab)")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the slowest queries of each in-process kind, with EXPLAIN ANALYZE",
    )
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
        for key, value in (QUICK | QUICK_RUN).items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
        if args.mine == parser.get_default("mine"):
            args.mine = 30
    if args.votes is None:
        args.votes = args.answers
    if args.comments is None:
        args.comments = args.answers // 5
    return run_on(NamedDatabase(DB_NAME, "bench_knowledge.py"), args, measure)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

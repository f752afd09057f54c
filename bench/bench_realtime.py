"""Delivery of real-time events over WebSockets, next to bare Redis pub/sub.

In a throwaway PostgreSQL database (see bench_directory.py) it creates --clients active
employees, each with an API token, and one private community with all of them as members.
Two Essaim processes (`essaim serve --no-worker`, one uvicorn worker each) share that database
and Redis (a prefix of their own: essaim-bench-<pid>). Client processes (asyncio,
`websockets`) open one socket per employee, half on each server, authenticated with
`Authorization: Bearer <token>`, and send `resume` from the stream's head. Then, for
--duration seconds, a producer process calls `realtime.events.emit` in a transaction (so
that `publish` runs on commit) with its wall-clock time in the event's data:

- (a) 20 events per second, each named to a different group of 10 people (`users=`);
- (b) 1 event per second to the community of everyone.

Latency is receive time minus produce time (one machine, one clock), so it covers the
write, the commit, the numbering, Redis, the hub's read and access check, and the socket.
An expected delivery not received 5 s after the last event is lost; an event received twice
on a socket is duplicated. Memory per idle connection is the growth of the servers' RSS
while the sockets open, divided by their number.

The same schedule then runs over bare Redis pub/sub from one Python process: as many
connections, each subscribed to its person's channel and to one channel of everyone; a
group event is 10 PUBLISHes (one pipeline), the community event one PUBLISH. The ratio of
the two latencies is Essaim's overhead. Prints a table, the targets (p50 < 40 ms,
p99 < 150 ms, nothing lost or duplicated), the CPU each part used, and a JSON line.
Figures are printed, never asserted; the exit status is non-zero when it could not
measure (a server or client failed, sockets did not open, nothing was delivered).

    python bench/bench_realtime.py [--duration 60] [--clients 2000]
    python bench/bench_realtime.py --quick          # 200 clients for 10 s
    python bench/bench_realtime.py --dump raw.json  # every delivery, for a closer look
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import multiprocessing as mp
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from bench_api_me import HOST, ROOT, free_port, stop, wait_ready
from bench_chat import server_options, setup
from bench_directory import in_throwaway_database, pct

GROUP_SIZE, GROUP_RATE, COMMUNITY_RATE = 10, 20.0, 1.0  # the schedule
TARGET_P50_MS, TARGET_P99_MS = 40.0, 150.0
GROUP, ALL, WARM = 0, 1, 2  # kinds of event, in the event data as "k"
KIND_NAMES = {GROUP: "(a) groups of 10, 20/s", ALL: "(b) community, 1/s", None: "(a)+(b)"}
SERVERS = 2
READERS = 2  # client processes per server: one reads 1,000 frames in some 35 ms
GRACE = 5.0  # seconds after the last event before what is missing counts as lost
CONNECTING = 50  # handshakes in flight per client process
TICK = os.sysconf("SC_CLK_TCK")


# --- The schedule, shared by both runs ----------------------------------------------------
def schedule(duration: float) -> list[tuple[float, int, int]]:
    """(seconds from the start, kind, number) of every event, in time order."""
    plan = [(n / GROUP_RATE, GROUP, n) for n in range(int(duration * GROUP_RATE))]
    # Half a group interval later, so that the two kinds never start at the same instant.
    offset = 0.5 / GROUP_RATE
    plan += [(m / COMMUNITY_RATE + offset, ALL, m) for m in range(int(duration * COMMUNITY_RATE))]
    return sorted(plan)


def group(n: int, clients: int) -> range:
    """The indexes (0..clients-1) of the people event (a) number n goes to."""
    g = n % max(1, clients // GROUP_SIZE)
    return range(g * GROUP_SIZE, min(clients, (g + 1) * GROUP_SIZE))


# --- Processes: memory and CPU ------------------------------------------------------------
def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


@dataclass
class CpuWatch:
    """CPU used by named groups of processes between start() and stop(), in % of one core."""

    groups: dict[str, list[int]]
    began: dict[int, float] = field(default_factory=dict)
    machine: tuple[float, float] = (0.0, 0.0)
    wall: float = 0.0
    used: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.began = {p: cpu_seconds(p) for pids in self.groups.values() for p in pids}
        self.machine, self.wall = machine_busy(), time.monotonic()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.wall
        for name, pids in self.groups.items():
            spent = sum(max(0.0, cpu_seconds(p) - self.began[p]) for p in pids)
            self.used[name] = round(100 * spent / wall, 1)
        busy, total = machine_busy()
        share = (busy - self.machine[0]) / max(1e-9, total - self.machine[1])
        self.used["machine (% of all cores)"] = round(100 * share, 1)
        return self.used


def cpu_line(used: dict[str, float]) -> str:
    parts = [f"{name} {value:.0f}" for name, value in used.items() if "machine" not in name]
    cores = os.cpu_count() or 1
    machine = used.get("machine (% of all cores)", 0.0)
    # Other work on the machine: what is busy beyond the processes above (PostgreSQL and
    # Redis count whole, other databases included).
    others = max(0.0, machine - sum(v for k, v in used.items() if "machine" not in k) / cores)
    return (
        f"{', '.join(parts)} (% of one core); machine {machine:.0f} % busy of {cores} cores, "
        f"{others:.0f} % by other work{'  SATURATED' if machine >= 90 else ''}"
    )


# --- Essaim's side: data, servers, producer -----------------------------------------------
def populate(clients: int) -> tuple[list[int], list[str], int]:
    """Employees with a token each and a private community of them all:
    (user ids, raw tokens, community id)."""
    from django.db import transaction

    from essaim.accounts.models import ApiToken, TokenScope, User, UserKind
    from essaim.accounts.services import TOKEN_PREFIX, hash_token
    from essaim.communities.models import Community, Membership, Role, Visibility

    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(
                    email=f"rt{i}@bench.example",
                    display_name=f"Bench {i}",
                    kind=UserKind.EMPLOYEE,
                    password="!",  # unusable: the sockets use API tokens
                )
                for i in range(clients)
            ],
            batch_size=2000,
        )
        raws = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create(
            [
                ApiToken(
                    user=u,
                    name="bench",
                    prefix=r[:10],
                    key_hash=hash_token(r),
                    scope=TokenScope.READ,
                )
                for u, r in zip(users, raws, strict=True)
            ],
            batch_size=2000,
        )
        community = Community.objects.create(
            name="Everyone (bench)", slug="everyone-bench", visibility=Visibility.PRIVATE
        )
        Membership.objects.bulk_create(
            [Membership(community=community, user=u, role=Role.MEMBER) for u in users],
            batch_size=2000,
        )
    return [u.pk for u in users], raws, community.pk


def emit(kind: int, n: int, users: list[int], community: Any) -> None:
    """One event of the schedule, written and committed; publish() runs on commit."""
    from django.db import transaction

    from essaim.realtime import events

    data = {"k": kind, "n": n, "t": time.time()}
    with transaction.atomic():
        if kind == GROUP:
            events.emit("bench.tick", data, users=users)
        else:
            events.emit("bench.tick", data, community=community)


def producer_process(
    users: list[int], community_id: int, start_at: float, duration: float, reports: Any
) -> None:
    """Emits the schedule from start_at (wall clock); reports what it produced."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    die_with_parent()
    import django

    django.setup()
    from essaim.communities.models import Community

    community = Community.objects.get(pk=community_id)  # also opens the pool's connection
    produced, late, took = [], [], []
    for offset, kind, n in schedule(duration):
        due = start_at + offset
        if due > time.time():
            time.sleep(due - time.time())
        began = time.time()
        members = [users[i] for i in group(n, len(users))] if kind == GROUP else []
        emit(kind, n, members, community)
        produced.append((kind, n))
        late.append((began - due) * 1000)
        took.append((time.time() - began) * 1000)
    reports.put(("produced", produced, late, took))  # in the order of ``produced``


def die_with_parent() -> None:
    """SIGTERM to this process when its parent dies, even by SIGKILL (Linux): servers and
    client processes never outlive the script."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(port: int, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # As shipped: `essaim serve` runs uvicorn with Essaim's own options.
    command = [str(Path(sys.executable).with_name("essaim")), "serve", "--no-worker"]
    command += ["--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        # Own session: a Ctrl-C reaches only us, and we stop the servers ourselves.
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


async def probe(port: int, token: str) -> None:
    """One socket opened, resumed and closed: the server has imported everything and
    started its hub before its memory is read."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {token}"}
    async with connect(f"ws://{HOST}:{port}/ws/", additional_headers=headers, proxy=None) as ws:
        await ws.send(json.dumps({"type": "resume", "last_event_id": 0}))
        await asyncio.sleep(0.5)


# --- Clients ------------------------------------------------------------------------------
@dataclass
class Received:
    """What a client process saw: (index, kind, number, latency ms) per event frame."""

    deliveries: list[tuple[int, int, int, float]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)  # resync, errors, closes…
    absent: list[int] = field(default_factory=list)  # whose socket did not open
    connected: int = 0
    warm: int = 0


def record(got: Received, index: int, data: dict[str, Any], now: float, reports: Any) -> None:
    if data.get("k") == WARM:
        got.warm += 1
        if got.warm == got.connected and reports is not None:
            reports.put(("warm", os.getpid()))
    else:
        got.deliveries.append((index, data["k"], data["n"], (now - data["t"]) * 1000))


def client_process(url: str, people: list[tuple[int, str]], head: int, reports: Any, stop: Any):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    die_with_parent()
    import uvloop

    uvloop.run(_clients(url, people, head, reports, stop))


async def _clients(url: str, people: list[tuple[int, str]], head: int, reports: Any, stop: Any):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    got, gate, sockets = Received(), asyncio.Semaphore(CONNECTING), []

    async def read(index: int, ws: Any) -> None:
        last = 0
        try:
            async for text in ws:
                now = time.time()
                frame = json.loads(text)
                if "id" not in frame:
                    got.notes[f"frame {frame.get('type')}"] += 1  # resync, error…
                    continue
                if frame["id"] < last:
                    got.notes["out of order"] += 1
                last = max(last, frame["id"])
                record(got, index, frame["data"], now, reports)
        except ConnectionClosed as closed:
            if not stop.is_set():
                got.notes[f"closed by server ({closed.rcvd.code if closed.rcvd else '-'})"] += 1

    async def open_one(index: int, token: str) -> asyncio.Task[None] | None:
        async with gate:
            try:
                ws = await connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {token}"},
                    proxy=None,
                    ping_interval=None,  # browsers do not ping; the server does
                    open_timeout=120,
                    close_timeout=2,
                )
                await ws.send(json.dumps({"type": "resume", "last_event_id": head}))
            except Exception as error:  # counted and reported
                got.notes[f"connect failed: {type(error).__name__}: {str(error)[:80]}"] += 1
                got.absent.append(index)
                return None
        sockets.append(ws)
        return asyncio.ensure_future(read(index, ws))

    readers = [t for t in await asyncio.gather(*(open_one(i, tok) for i, tok in people)) if t]
    got.connected = len(readers)
    reports.put(("connected", os.getpid(), got.connected, dict(got.notes)))
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    await asyncio.wait(
        [asyncio.ensure_future(ws.close()) for ws in sockets] or [asyncio.sleep(0)], timeout=10
    )
    for task in readers:
        task.cancel()
    reports.put(("result", os.getpid(), got.deliveries, dict(got.notes), got.absent))


# --- Bare Redis pub/sub, one process ------------------------------------------------------
def bare_process(url: str, prefix: str, clients: int, duration: float, reports: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    die_with_parent()
    import uvloop

    uvloop.run(_bare(url, prefix, clients, duration, reports))


async def _bare(url: str, prefix: str, clients: int, duration: float, reports: Any) -> None:
    import redis.asyncio

    everyone = f"{prefix}:all"
    server = redis.asyncio.Redis.from_url(url)
    redis_before = (await server.info("memory"))["used_memory"]
    rss_before = rss_kib(os.getpid())
    got = Received(connected=clients)
    warm = asyncio.Event()
    pubsubs = []

    async def listen(index: int, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                now = time.time()
                record(got, index, json.loads(message["data"])["data"], now, None)
                if got.warm == clients:
                    warm.set()

    # A connection per pubsub, from this client's pool.
    subscribers = redis.asyncio.Redis.from_url(url, max_connections=clients + 10)
    listeners = []
    for index in range(clients):
        pubsub = subscribers.pubsub()
        await pubsub.subscribe(f"{prefix}:user:{index}", everyone)
        pubsubs.append(pubsub)
        listeners.append(asyncio.ensure_future(listen(index, pubsub)))
    await asyncio.sleep(1)
    await server.publish(everyone, json.dumps({"data": {"k": WARM, "n": 0, "t": time.time()}}))
    await asyncio.wait_for(warm.wait(), 60)
    await asyncio.sleep(1)
    memory = {
        "process_kib": (rss_kib(os.getpid()) - rss_before) / clients,
        "redis_kib": ((await server.info("memory"))["used_memory"] - redis_before) / 1024 / clients,
    }
    watch = CpuWatch({"bare process": [os.getpid()], "redis": pids_named("redis-server")})
    start_at = time.time() + 0.5
    await asyncio.sleep(0.5)
    watch.start()
    produced = []
    for seq, (offset, kind, n) in enumerate(schedule(duration), start=1):
        delay = start_at + offset - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        text = json.dumps(
            {"id": seq, "type": "bench.tick", "data": {"k": kind, "n": n, "t": time.time()}}
        )
        if kind == GROUP:
            async with server.pipeline(transaction=False) as pipe:
                for i in group(n, clients):
                    pipe.publish(f"{prefix}:user:{i}", text)
                await pipe.execute()
        else:
            await server.publish(everyone, text)
        produced.append((kind, n))
    used = watch.stop()
    await asyncio.sleep(GRACE)
    for task in listeners:
        task.cancel()
    for pubsub in pubsubs:
        await pubsub.aclose()
    await subscribers.aclose()
    await server.aclose()
    reports.put(("bare", produced, got.deliveries, dict(got.notes), memory, used))


# --- Figures ------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    events: int
    expected: int
    delivered: int
    lost: int
    dup: int
    wrong: int
    seconds: float
    ms: list[float]

    def figures(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "expected": self.expected,
            "delivered": self.delivered,
            "delivered_per_s": round(self.delivered / self.seconds, 1),
            "p50_ms": round(pct(self.ms, 50), 1),
            "p95_ms": round(pct(self.ms, 95), 1),
            "p99_ms": round(pct(self.ms, 99), 1),
            "max_ms": round(self.ms[-1], 1) if self.ms else None,
            "lost": self.lost,
            "duplicated": self.dup,
            "misdelivered": self.wrong,
        }


def tally(
    label: str,
    produced: list[tuple[int, int]],
    deliveries: list[tuple[int, int, int, float]],
    clients: int,
    seconds: float,
    absent: frozenset[int] = frozenset(),
) -> list[Row]:
    """Rows for (a), (b) and both: every delivery checked against the schedule's audience
    (less the ``absent``, whose socket never opened)."""
    made = set(produced)
    seen: set[tuple[int, int, int]] = set()
    ms: dict[int, list[float]] = {GROUP: [], ALL: []}
    dup, wrong = Counter[int](), Counter[int]()
    for index, kind, n, latency in deliveries:
        if (index, kind, n) in seen:
            dup[kind] += 1
            continue
        seen.add((index, kind, n))
        audience = group(n, clients) if kind == GROUP else range(clients)
        if (kind, n) not in made or index not in audience:
            wrong[kind] += 1
        else:
            ms[kind].append(latency)
    rows = []
    for kind in (GROUP, ALL):
        events = sum(1 for k, _ in produced if k == kind)
        expected = sum(
            len(set(group(n, clients) if k == GROUP else range(clients)) - absent)
            for k, n in produced
            if k == kind
        )
        got = sorted(ms[kind])
        rows.append(
            Row(
                f"{label} {KIND_NAMES[kind]}",
                events,
                expected,
                len(got),
                expected - len(got),
                dup[kind],
                wrong[kind],
                seconds,
                got,
            )
        )
    a, b = rows
    rows.append(
        Row(
            f"{label} {KIND_NAMES[None]}",
            a.events + b.events,
            a.expected + b.expected,
            a.delivered + b.delivered,
            a.lost + b.lost,
            a.dup + b.dup,
            a.wrong + b.wrong,
            seconds,
            sorted(a.ms + b.ms),
        )
    )
    return rows


HEADER = (
    f"{'scenario':<38}{'events':>7}{'deliveries':>11}{'deliv/s':>9}{'p50 ms':>8}{'p95 ms':>8}"
    f"{'p99 ms':>8}{'max ms':>8}{'lost':>7}{'dup':>5}{'p50 /bare':>10}{'p99 /bare':>10}"
)


def line(row: Row, bare: Row | None) -> str:
    f = row.figures()

    def ratio(key: str) -> str:
        if bare is None or not bare.ms or not row.ms:
            return ""
        return f"{f[key] / max(0.01, bare.figures()[key]):.1f}"

    return (
        f"{row.name:<38}{f['events']:>7}{f['delivered']:>11,}{f['delivered_per_s']:>9,.0f}"
        f"{f['p50_ms']:>8.1f}{f['p95_ms']:>8.1f}{f['p99_ms']:>8.1f}{f['max_ms'] or 0:>8.1f}"
        f"{f['lost']:>7}{f['duplicated']:>5}{ratio('p50_ms'):>10}{ratio('p99_ms'):>10}"
    )


def server_problems(logs: list[Path]) -> list[str]:
    """Lines of the servers' logs that say something went wrong (level warning and up)."""
    found = []
    for log in logs:
        for text in log.read_text(errors="replace").splitlines():
            if any(word in text for word in ("Traceback", "ERROR", "WARNING", "Error", "rror:")):
                found.append(f"{log.stem}: {text[:200]}")
    return found


# --- The run ------------------------------------------------------------------------------
class Failed(Exception):
    """The run could not measure."""


def expect(reports: Any, kind: str, count: int, timeout: float, procs: list[Any]) -> list[Any]:
    """``count`` reports of ``kind`` from the children, or Failed."""
    found, deadline = [], time.monotonic() + timeout
    while len(found) < count:
        try:
            message = reports.get(timeout=1)
        except Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise Failed(f"a child process died (exit {dead[0].exitcode})") from None
            if time.monotonic() > deadline:
                raise Failed(f"waited {timeout:.0f} s for {count} '{kind}' reports") from None
            continue
        if message[0] != kind:
            raise Failed(f"expected '{kind}', got '{message[0]}'")
        found.append(message)
    return found


def end(procs: list[Any], wait: float) -> None:
    """Child processes gone: ``wait`` seconds to finish, then terminated, then killed."""
    for proc in procs:
        proc.join(timeout=wait)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=2)
        if proc.is_alive():
            proc.kill()
            proc.join()


@dataclass
class Children:
    """The processes of an Essaim run, and how they talk to us."""

    ctx: Any
    reports: Any
    stopping: Any
    procs: list[Any] = field(default_factory=list)

    def start(self, target: Any, *args: Any) -> Any:
        proc = self.ctx.Process(target=target, args=args, daemon=True)
        proc.start()
        self.procs.append(proc)
        return proc

    def expect(self, kind: str, count: int, timeout: float) -> list[Any]:
        return expect(self.reports, kind, count, timeout, self.procs)


def open_sockets(
    args: argparse.Namespace, ports: list[int], tokens: list[str], kids: Children
) -> list[int]:
    """READERS client processes per server, person i on server i % SERVERS (so each group
    of 10 spans both); returns how many sockets each server got."""
    from essaim.realtime import events

    head = events.head_now()
    for k, port in enumerate(ports):
        people = [(i, tokens[i]) for i in range(k, args.clients, SERVERS)]
        url = f"ws://{HOST}:{port}/ws/"
        for r in range(READERS):
            share = people[r::READERS]
            kids.start(client_process, url, share, head, kids.reports, kids.stopping)
    began = time.perf_counter()
    opened = kids.expect("connected", SERVERS * READERS, 600)
    per_process = [next(m[2] for m in opened if m[1] == proc.pid) for proc in kids.procs]
    per_server = [sum(per_process[k * READERS : (k + 1) * READERS]) for k in range(SERVERS)]
    failures = Counter[str]()
    for m in opened:
        failures.update(m[3])
    print(
        f"connected   {sum(per_server):,} of {args.clients:,} sockets in "
        f"{time.perf_counter() - began:.1f} s" + (f"; {dict(failures)}" if failures else ""),
        flush=True,
    )
    if not sum(per_server):
        raise Failed("no socket opened")
    return per_server


def produce(
    args: argparse.Namespace, servers: list[Any], users: list[int], community: Any, kids: Children
) -> tuple[list[tuple[int, int]], list[float], list[float], dict[str, float]]:
    """The warm-up event (every socket must get it: all are live), then the schedule from
    a producer process: (events produced, ms late, ms to emit, CPU used)."""
    began = time.perf_counter()
    emit(WARM, 0, [], community)
    kids.expect("warm", SERVERS * READERS, 120)
    print(
        f"live        every socket received a first event {time.perf_counter() - began:.2f} s "
        "after it was emitted",
        flush=True,
    )
    clients = [p.pid for p in kids.procs]
    start_at = time.time() + 3  # time for the producer to start and import Django
    producer = kids.start(
        producer_process, users, community.pk, start_at, args.duration, kids.reports
    )
    watch = CpuWatch(
        {
            "server A": [servers[0].pid],
            "server B": [servers[1].pid],
            "clients": clients,
            "producer": [producer.pid],
            "postgres": pids_named("postgres"),
            "redis": pids_named("redis-server"),
        }
    )
    time.sleep(max(0.0, start_at - time.time() - 0.5))  # its imports are not counted
    watch.start()
    print(f"running     {args.duration:g} s of events…", flush=True)
    ((_, produced, late, took),) = kids.expect("produced", 1, args.duration + 120)
    return produced, late, took, watch.stop()


def run_essaim(args: argparse.Namespace, env: dict[str, str], tmp: Path, ctx: Any) -> dict:
    from essaim.communities.models import Community

    setup = time.perf_counter()
    users, tokens, community_id = populate(args.clients)
    print(
        f"setup       {args.clients:,} employees with a token each, one private community "
        f"of them all ({time.perf_counter() - setup:.1f} s)",
        flush=True,
    )
    ports = [free_port() for _ in range(SERVERS)]
    logs = [tmp / f"server-{i}.log" for i in range(SERVERS)]
    servers: list[subprocess.Popen[bytes]] = []
    kids = Children(ctx, ctx.Queue(), ctx.Event())
    results: list[Any] = []
    try:
        for port, log in zip(ports, logs, strict=True):
            servers.append(start_server(port, log, env))
        for server, port, log in zip(servers, ports, logs, strict=True):
            wait_ready(server, log, port, "/health/", {})
            asyncio.run(probe(port, tokens[0]))
        time.sleep(1)
        rss_before = [rss_kib(s.pid) for s in servers]
        per_server = open_sockets(args, ports, tokens, kids)
        time.sleep(2)  # the catch-ups end; the sockets are idle
        rss_after = [rss_kib(s.pid) for s in servers]
        community = Community.objects.get(pk=community_id)
        produced, late, took, used = produce(args, servers, users, community, kids)
        time.sleep(GRACE)
        kids.stopping.set()
        results = kids.expect("result", SERVERS * READERS, 120)
    finally:
        kids.stopping.set()
        end(kids.procs, wait=5 if results else 0)
        for server in servers:
            stop(server)
    deliveries = [d for r in results for d in r[2]]
    absent = frozenset(i for r in results for i in r[4])
    notes = Counter[str]()
    for r in results:
        notes.update(r[3])
    raw = {"produced": produced, "deliveries": deliveries, "emit_ms": took, "late_ms": late}
    late, took = sorted(late), sorted(took)
    growth = zip(rss_before, rss_after, per_server, strict=True)
    per_connection = [(after - before) / max(1, n) for before, after, n in growth]
    return {
        "rows": tally("Essaim", produced, deliveries, args.clients, args.duration, absent),
        "connected": sum(per_server),
        "rss_mib": [
            [round(b / 1024, 1), round(a / 1024, 1)]
            for b, a in zip(rss_before, rss_after, strict=True)
        ],
        "kib_per_connection": sum(per_connection) / len(per_connection),
        "cpu": used,
        "late_ms": [round(pct(late, 50), 1), round(pct(late, 99), 1), round(late[-1], 1)],
        "emit_ms": [round(pct(took, 50), 1), round(pct(took, 99), 1), round(took[-1], 1)],
        "notes": dict(notes),
        "server_problems": server_problems(logs),
        "raw": raw,
    }


def run_bare(args: argparse.Namespace, redis_url: str, prefix: str, ctx: Any) -> dict:
    reports = ctx.Queue()
    bare = ctx.Process(
        target=bare_process,
        daemon=True,
        args=(redis_url, f"{prefix}-bare", args.clients, args.duration, reports),
    )
    bare.start()
    finished = False
    try:
        ((_, produced, deliveries, notes, memory, used),) = expect(
            reports, "bare", 1, args.duration + 300, [bare]
        )
        finished = True
    finally:
        end([bare], wait=5 if finished else 0)
    return {
        "rows": tally("bare Redis", produced, deliveries, args.clients, args.duration),
        "memory": memory,
        "cpu": used,
        "notes": notes,
        "raw": {"produced": produced, "deliveries": deliveries},
    }


def forget_redis_keys(redis_url: str, prefix: str) -> None:
    """Presence keys the servers left under our prefix (they would expire in 60 s anyway)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def measure(args: argparse.Namespace) -> int:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        print("bench_realtime needs PostgreSQL (--database-url)", file=sys.stderr)
        return 2
    prefix = setup(args)
    # Every socket is a file descriptor on both ends.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = dict(os.environ)
    ctx = mp.get_context("spawn")  # children must not share this process's connections
    tmp = Path(os.environ["ESSAIM_VAR_DIR"]).parent
    load = os.getloadavg()
    print(
        f"run         {args.clients:,} clients on {SERVERS} Essaim processes, {args.duration:g} s; "
        f"Redis {args.redis_url} prefix {prefix}; load average {load[0]:.1f} "
        f"on {os.cpu_count()} CPUs",
        flush=True,
    )
    try:
        essaim = run_essaim(args, env, tmp, ctx)
    except Failed as error:
        print(f"FAILED      {error}", file=sys.stderr)
        return 1
    finally:
        forget_redis_keys(args.redis_url, prefix)
    print("bare        the same schedule over Redis pub/sub from one Python process…", flush=True)
    try:
        bare = run_bare(args, args.redis_url, prefix, ctx)
    except Failed as error:
        print(f"FAILED      bare Redis: {error}", file=sys.stderr)
        return 1
    report(args, essaim, bare)
    if args.dump:
        raw = {"essaim": essaim["raw"], "bare": bare["raw"]}
        Path(args.dump).write_text(json.dumps(raw))
        print(f"raw deliveries (index, kind, number, latency ms) written to {args.dump}")
    ok = essaim["rows"][2].delivered > 0 and essaim["connected"] == args.clients
    return 0 if ok else 1


def report(args: argparse.Namespace, essaim: dict, bare: dict) -> None:
    print()
    print(HEADER)
    for row, base in zip(essaim["rows"], bare["rows"], strict=True):
        print(line(row, base))
    for row in bare["rows"]:
        print(line(row, None))
    verdicts = {}
    for row in essaim["rows"]:
        f = row.figures()
        verdicts[row.name] = (
            f["p50_ms"] < TARGET_P50_MS
            and f["p99_ms"] < TARGET_P99_MS
            and f["lost"] == f["duplicated"] == f["misdelivered"] == 0
        )
    met = verdicts[essaim["rows"][2].name]
    print(
        f"targets     p50 < {TARGET_P50_MS:g} ms, p99 < {TARGET_P99_MS:g} ms, 0 lost, "
        "0 duplicated: "
        + ", ".join(
            f"{name.removeprefix('Essaim ').split(',')[0]} {'met' if ok else 'MISSED'}"
            for name, ok in verdicts.items()
        )
    )
    rss = essaim["rss_mib"]
    print(
        f"memory      Essaim {essaim['kib_per_connection']:.1f} KiB per idle connection "
        "(server RSS "
        + ", ".join(f"{b:.0f} → {a:.0f} MiB" for b, a in rss)
        + f"); bare: redis-server {bare['memory']['redis_kib']:.1f} KiB, subscriber process "
        f"{bare['memory']['process_kib']:.1f} KiB per connection"
    )
    print(
        f"producer    emit+commit+publish p50 {essaim['emit_ms'][0]} / "
        f"p99 {essaim['emit_ms'][1]} / "
        f"max {essaim['emit_ms'][2]} ms; started late p50 {essaim['late_ms'][0]} / p99 "
        f"{essaim['late_ms'][1]} / max {essaim['late_ms'][2]} ms"
    )
    print(f"cpu Essaim  {cpu_line(essaim['cpu'])}")
    print(f"cpu bare    {cpu_line(bare['cpu'])}")
    wrong = {r.name: r.wrong for r in essaim["rows"][:2] + bare["rows"][:2] if r.wrong}
    notes = {**essaim["notes"], **{f"bare {k}": v for k, v in bare["notes"].items()}}
    if wrong or notes:
        print(f"anomalies   misdelivered {wrong or 0}; {notes}")
    problems = essaim["server_problems"]
    print(
        f"server logs {len(problems)} warning/error lines"
        + "".join(f"\n  {p}" for p in problems[:10])
    )
    result = {
        "bench": "realtime",
        "clients": args.clients,
        "duration_s": args.duration,
        "essaim": {r.name: r.figures() for r in essaim["rows"]},
        "bare_redis": {r.name: r.figures() for r in bare["rows"]},
        "targets_met": met,
        "kib_per_idle_connection": round(essaim["kib_per_connection"], 1),
        "server_rss_mib": rss,
        "bare_memory_kib": {k: round(v, 1) for k, v in bare["memory"].items()},
        "emit_ms_p50_p99_max": essaim["emit_ms"],
        "cpu_essaim": essaim["cpu"],
        "cpu_bare": bare["cpu"],
        "notes": notes,
        "server_problems": len(problems),
    }
    print(json.dumps(result, ensure_ascii=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of events (60)")
    parser.add_argument("--clients", type=int, default=2000, help="sockets, and people (2000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 clients, 10 s")
    server_options(parser)
    parser.add_argument("--dump", metavar="FILE", help="write every event and delivery as JSON")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.duration = 200, 10
    if args.clients < GROUP_SIZE * SERVERS:
        parser.error(f"--clients must be at least {GROUP_SIZE * SERVERS}")
    return in_throwaway_database(args, measure)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # servers, clients and the database are gone already (finally)
        print("interrupted", file=sys.stderr)
        sys.exit(130)

"""Chat: sending, delivery and opening a conversation, through a real server.

In a throwaway PostgreSQL database (see bench_directory.py), with Redis, --processes (1)
Essaim processes (`essaim serve --no-worker`) on loopback, and people with API tokens:

(1) two people in a direct conversation: Alice sends --messages (300) messages 20 ms
    apart through `POST /api/v1/conversations/{id}/messages` (each with a client id);
    Bob listens on his socket. Send round trip (request to response) and send-to-delivery
    (request to Bob's `chat.message` frame) p50/p99. Targets: send p50 < 30 ms and
    p99 < 40 ms; delivery p50 < 35 ms and p99 < 50 ms.
(2) 8 senders into one group conversation, as fast as each can, for --seconds (10),
    connecting 50 ms apart: accepted messages per second (target >= 150), and on a
    ninth member's socket every one delivered once, in order.
(3) --clients (1,000) people, each with a socket open, in --clients/10 groups of ten;
    --crowd-senders (50), one per group, each sending a message every --interval (1 s)
    for --crowd-seconds (60): accepted messages per second, delivery to every member's
    socket (the sender's own included) p50/p95/p99, lost and duplicated deliveries.
(4) opening a conversation: `GET …/messages?limit=50` of a conversation of 1,000
    messages, 200 times after 20: p95 (target < 30 ms; on loopback, so it includes HTTP).

The flood limit is raised for the run (`CHAT_MESSAGES_PER_WINDOW`). The clients run in
this process, on the same two cores as the server. Figures are printed, never asserted.

    python bench/bench_chat.py [--messages 300] [--seconds 10] [--clients 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_api_me import HOST, ROOT, free_port, stop, wait_ready
from bench_directory import in_throwaway_database, pct

SENDERS = 8


def server_options(parser: argparse.ArgumentParser) -> None:
    """The PostgreSQL and Redis servers of the benches that run Essaim's servers."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server to make the throwaway database on",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis server (keys and channels under essaim-bench-<pid>)",
    )


def setup(args: argparse.Namespace, **settings: str) -> str:
    """Django in this process, configured as the servers will be (``settings`` added to
    their environment), the database migrated; the Redis prefix."""
    prefix = f"essaim-bench-{os.getpid()}"
    os.environ.update(
        {
            "REDIS_URL": args.redis_url,
            "ESSAIM_REDIS_PREFIX": prefix,
            "ALLOWED_HOSTS": HOST,
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "essaim.settings",
            **settings,
        }
    )
    os.environ.pop("ESSAIM_PRODUCTION", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return prefix


@contextmanager
def essaim_server(processes: int, token: str) -> Iterator[int]:
    """``essaim serve --no-worker`` with ``processes`` processes on a free port of
    loopback, answering ``token``'s requests; its port. Stopped on leaving."""
    port = free_port()
    log = Path(os.environ["ESSAIM_VAR_DIR"]).parent / "server.log"
    command = [str(Path(sys.executable).with_name("essaim")), "serve", "--no-worker"]
    command += ["--host", HOST, "--port", str(port), "--processes", str(processes)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        wait_ready(server, log, port, "/api/v1/me", {"Authorization": f"Bearer {token}"})
        yield port
    finally:
        stop(server)


def people(count: int, start: int = 0) -> list[tuple[int, str]]:
    """Employees with a write token each: (user id, raw token)."""
    from essaim.accounts.models import ApiToken, TokenScope, User, UserKind
    from essaim.accounts.services import TOKEN_PREFIX, hash_token

    users = User.objects.bulk_create(
        User(email=f"chat{i}@bench.example", display_name=f"Bench {i}", kind=UserKind.EMPLOYEE,
             password="!")
        for i in range(start, start + count)
    )  # fmt: skip
    raws = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _user in users]
    ApiToken.objects.bulk_create(
        ApiToken(user=user, name="bench", prefix=raw[:10], key_hash=hash_token(raw),
                 scope=TokenScope.WRITE)
        for user, raw in zip(users, raws, strict=True)
    )  # fmt: skip
    return [(user.pk, raw) for user, raw in zip(users, raws, strict=True)]


async def listen(port: int, token: str, head: int, frames: list[tuple[float, dict]], ready: Any):
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {token}"}
    async with connect(f"ws://{HOST}:{port}/ws/", additional_headers=headers, proxy=None) as ws:
        await ws.send(json.dumps({"type": "resume", "last_event_id": head}))
        ready.set()
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "chat.message":
                frames.append((time.perf_counter(), frame["data"]))


async def pair(port: int, alice: str, bob: str, conversation: int, args: Any, head: int):
    import httpx

    frames: list[tuple[float, dict]] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(listen(port, bob, head, frames, ready))
    await asyncio.wait_for(ready.wait(), 10)
    await asyncio.sleep(0.5)
    sent: dict[int, float] = {}
    rtt: list[float] = []
    url = f"http://{HOST}:{port}/api/v1/conversations/{conversation}/messages"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {alice}"}) as client:
        started = time.perf_counter()
        for n in range(args.messages):
            await asyncio.sleep(max(0.0, started + n * 0.02 - time.perf_counter()))
            begin = time.perf_counter()
            answer = await client.post(url, json={"body": f"m{n}", "client_id": f"a-{n}"})
            rtt.append((time.perf_counter() - begin) * 1000)
            sent[answer.json()["id"]] = begin
    await asyncio.sleep(2)
    listener.cancel()
    delivery = [(at - sent[d["message"]]) * 1000 for at, d in frames if d["message"] in sent]
    return rtt, delivery, len(sent) - len({d["message"] for _at, d in frames})


async def crowd(port: int, tokens: list[str], listener_token: str, conversation: int, args: Any,
                head: int) -> dict[str, Any]:  # fmt: skip
    import httpx

    frames: list[tuple[float, dict]] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(listen(port, listener_token, head, frames, ready))
    await asyncio.wait_for(ready.wait(), 10)
    await asyncio.sleep(0.5)
    url = f"http://{HOST}:{port}/api/v1/conversations/{conversation}/messages"
    accepted: list[int] = []
    refused = 0
    deadline = time.perf_counter() + args.seconds

    async def sender(index: int, token: str) -> None:
        nonlocal refused
        # People do not connect in the same millisecond: with several server processes,
        # a connection opened while one is busy goes to another.
        await asyncio.sleep(index * 0.05)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
            n = 0
            while time.perf_counter() < deadline:
                answer = await client.post(url, json={"body": f"s{index}-{n}"}, timeout=30)
                n += 1
                if answer.status_code == 201:
                    accepted.append(answer.json()["id"])
                else:
                    refused += 1

    await asyncio.gather(*(sender(i, t) for i, t in enumerate(tokens)))
    await asyncio.sleep(3)
    listener.cancel()
    got = [d["message"] for _at, d in frames]
    return {
        "accepted": len(accepted),
        "per_second": len(accepted) / args.seconds,
        "refused": refused,
        "delivered": len(set(got) & set(accepted)),
        "duplicated": len(got) - len(set(got)),
        "in_order": got == sorted(got),
    }


async def many(port: int, groups: list[list[tuple[int, str]]], conversations: list[int],
               args: Any, head: int) -> dict[str, Any]:  # fmt: skip
    """(3): everyone's socket open; one sender per group, paced; every delivery timed."""
    import httpx
    from websockets.asyncio.client import connect

    arrivals: dict[int, list[float]] = {}  # message id -> arrival times on all sockets
    sockets: list[Any] = []

    async def listen_one(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        ws = await connect(f"ws://{HOST}:{port}/ws/", additional_headers=headers, proxy=None,
                           open_timeout=60)  # fmt: skip
        sockets.append(ws)
        await ws.send(json.dumps({"type": "resume", "last_event_id": head}))
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "chat.message":
                arrivals.setdefault(frame["data"]["message"], []).append(time.perf_counter())

    tokens = [raw for group in groups for _pk, raw in group]
    listeners = []
    for start in range(0, len(tokens), 50):  # connect by fifties, as a morning would
        listeners += [asyncio.create_task(listen_one(t)) for t in tokens[start : start + 50]]
        await asyncio.sleep(0.2)
    while len(sockets) < len(tokens):
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    sent: dict[int, float] = {}
    rtt: list[float] = []
    refused = 0
    senders = min(args.crowd_senders, len(groups))
    deadline = time.perf_counter() + args.crowd_seconds

    async def sender(group: list[tuple[int, str]], conversation: int) -> None:
        nonlocal refused
        url = f"http://{HOST}:{port}/api/v1/conversations/{conversation}/messages"
        headers = {"Authorization": f"Bearer {group[0][1]}"}
        async with httpx.AsyncClient(headers=headers, timeout=60) as client:
            await asyncio.sleep(args.interval * secrets.randbelow(1000) / 1000)  # spread out
            n = 0
            while time.perf_counter() < deadline:
                begin = time.perf_counter()
                answer = await client.post(url, json={"body": f"c{conversation}-{n}"})
                n += 1
                rtt.append((time.perf_counter() - begin) * 1000)
                if answer.status_code == 201:
                    sent[answer.json()["id"]] = begin
                else:
                    refused += 1
                await asyncio.sleep(max(0.0, begin + args.interval - time.perf_counter()))

    await asyncio.gather(*(sender(groups[i], conversations[i]) for i in range(senders)))
    await asyncio.sleep(5)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    members = len(groups[0])
    delivery = sorted(
        (at - sent[m]) * 1000 for m, times in arrivals.items() if m in sent for at in times
    )
    received = {m: len(times) for m, times in arrivals.items() if m in sent}
    return {
        "clients": len(tokens),
        "conversations": len(groups),
        "senders": senders,
        "accepted": len(sent),
        "per_second": len(sent) / args.crowd_seconds,
        "refused": refused,
        "deliveries": len(delivery),
        "lost": sum(max(0, members - received.get(m, 0)) for m in sent),
        "duplicated": sum(max(0, n - members) for n in received.values()),
        "delivery_ms": {p: round(pct(delivery, p), 1) for p in (50, 95, 99)} if delivery else {},
        "send_ms": {p: round(pct(sorted(rtt), p), 1) for p in (50, 99)} if rtt else {},
    }


async def opening(port: int, token: str, conversation: int) -> list[float]:
    import httpx

    url = f"http://{HOST}:{port}/api/v1/conversations/{conversation}/messages?limit=50"
    times = []
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        for n in range(220):
            begin = time.perf_counter()
            answer = await client.get(url)
            assert answer.status_code == 200 and len(answer.json()) == 50
            if n >= 20:
                times.append((time.perf_counter() - begin) * 1000)
    return times


def measure(args: argparse.Namespace) -> int:
    prefix = setup(args, CHAT_MESSAGES_PER_WINDOW="100000")
    from essaim.accounts.models import User
    from essaim.chat import services
    from essaim.realtime import events

    everyone = people(SENDERS + 2)
    users = {pk: User.objects.get(pk=pk) for pk, _raw in everyone}
    (alice, alice_token), (bob, bob_token) = everyone[:2]
    direct, _new = services.direct_open(actor=users[alice], person=users[bob])
    group = services.group_create(
        actor=users[alice], title="Bench", people=[pk for pk, _raw in everyone[1:]]
    )
    history = services.group_create(actor=users[alice], title="History", people=[bob])
    for n in range(1000):
        services.message_send(actor=users[alice], conversation=history, body=f"old {n}")
    crowd_people = people(args.clients, start=len(everyone))
    groups = [crowd_people[i : i + 10] for i in range(0, len(crowd_people), 10)]
    rooms = [
        services.group_create(
            actor=User.objects.get(pk=group[0][0]),
            title=f"Room {n}",
            people=[pk for pk, _raw in group[1:]],
        ).pk
        for n, group in enumerate(groups)
    ]
    events.publish()
    with essaim_server(args.processes, alice_token) as port:
        print(f"server      {args.processes} Essaim process(es) on {HOST}:{port}, Redis {prefix}")
        head = events.head_now()
        rtt, delivery, lost = asyncio.run(pair(port, alice_token, bob_token, direct.pk, args, head))
        head = events.head_now()
        senders = [raw for _pk, raw in everyone[2:]]
        crowded = asyncio.run(crowd(port, senders, bob_token, group.pk, args, head))
        head = events.head_now()
        crowd3 = asyncio.run(many(port, groups, rooms, args, head)) if args.clients else {}
        opened = asyncio.run(opening(port, bob_token, history.pk))
    rtt, delivery, opened = sorted(rtt), sorted(delivery), sorted(opened)
    send50, send99 = pct(rtt, 50), pct(rtt, 99)
    got50, got99 = pct(delivery, 50), pct(delivery, 99)
    open95 = pct(opened, 95)
    print(f"(1) two people, {args.messages} messages 20 ms apart")
    print(f"    send round trip       p50 {send50:6.1f} ms  p99 {send99:6.1f} ms")
    print(f"    send to delivery      p50 {got50:6.1f} ms  p99 {got99:6.1f} ms  ({lost} lost)")
    print(f"(2) {SENDERS} senders into one conversation for {args.seconds:g} s")
    print(
        f"    {crowded['per_second']:.0f} accepted messages/s ({crowded['accepted']:,}, "
        f"{crowded['refused']} refused); delivered {crowded['delivered']:,}, "
        f"{crowded['duplicated']} twice, in order: {'yes' if crowded['in_order'] else 'NO'}"
    )
    if crowd3:
        got = crowd3["delivery_ms"]
        print(
            f"(3) {crowd3['clients']:,} sockets in {crowd3['conversations']} conversations, "
            f"{crowd3['senders']} senders every {args.interval:g} s for {args.crowd_seconds:g} s"
        )
        print(
            f"    {crowd3['per_second']:.1f} accepted messages/s ({crowd3['accepted']:,}, "
            f"{crowd3['refused']} refused); {crowd3['deliveries']:,} deliveries; send "
            f"p50 {crowd3['send_ms'].get(50, 0):.1f} ms  p99 {crowd3['send_ms'].get(99, 0):.1f} ms"
        )
        print(
            f"    delivery p50 {got.get(50, 0):.1f} ms  p95 {got.get(95, 0):.1f} ms  "
            f"p99 {got.get(99, 0):.1f} ms; {crowd3['lost']} lost, {crowd3['duplicated']} twice"
        )
    print(f"(4) opening a conversation (last 50 of 1,000)  p95 {open95:6.1f} ms")
    targets = {
        "send p50 < 30 ms, p99 < 40 ms": send50 < 30 and send99 < 40,
        "delivery p50 < 35 ms, p99 < 50 ms": got50 < 35 and got99 < 50 and lost == 0,
        ">= 150 accepted messages/s, each delivered once in order": crowded["per_second"] >= 150
        and crowded["delivered"] == crowded["accepted"]
        and crowded["duplicated"] == 0
        and crowded["in_order"],
        "opening p95 < 30 ms": open95 < 30,
    }
    for name, met in targets.items():
        print(f"target      {name}: {'met' if met else 'MISSED'}")
    summary = {
        "bench": "chat",
        "send_ms": {"p50": round(send50, 1), "p99": round(send99, 1)},
        "delivery_ms": {"p50": round(got50, 1), "p99": round(got99, 1), "lost": lost},
        "crowd": crowded,
        "thousand": crowd3,
        "open_p95_ms": round(open95, 1),
    }
    print(json.dumps(summary))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="(1) messages sent (300)")
    parser.add_argument("--seconds", type=float, default=10, help="(2) seconds of load (10)")
    parser.add_argument("--processes", type=int, default=1, help="server processes (1)")
    parser.add_argument("--clients", type=int, default=1000, help="(3) sockets (1000; 0: skip)")
    parser.add_argument("--crowd-senders", type=int, default=50, help="(3) senders (50)")
    parser.add_argument("--crowd-seconds", type=float, default=60, help="(3) seconds (60)")
    parser.add_argument("--interval", type=float, default=1, help="(3) s between sends (1)")
    server_options(parser)
    return in_throwaway_database(parser.parse_args(), measure)


if __name__ == "__main__":
    sys.exit(main())

"""Notifications: a whole community mentioned, and the daily digests.

In a throwaway PostgreSQL database (see bench_directory.py), with Redis:

(1) A community of --members (10,000) people; an animator posts "@all" through
    `POST /api/v1/posts` on --processes (2) Essaim processes (`essaim serve
    --no-worker`) on loopback, while --sockets (1,000) of the members have their socket
    open. Timed from the request: its answer (every notification written, in the post's
    transaction), and each socket's `notification` frame. Target: all created and
    delivered within 5 s.
(2) --digests (10,000) people with five unread notifications each (about posts of a
    community they are in): the daily run queues the digest tasks, --workers (2)
    `essaim worker` processes send them through a real SMTP server on loopback
    (aiosmtpd). Timed from the daily run to the last e-mail received; every person gets
    one. Target: within 2 minutes. Then a second run sends nothing (no repeats).

The clients run in this process, on the same two cores as the servers. Figures are
printed, never asserted.

    python bench/bench_notifications.py [--members 10000] [--sockets 1000] [--digests 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_api_me import HOST, ROOT, free_port, stop
from bench_chat import essaim_server, people, server_options, setup
from bench_directory import in_throwaway_database, pct

MENTION_TARGET_S = 5.0
DIGEST_TARGET_S = 120.0
PER_DIGEST = 5


def community_of(members: list[int], animator: int) -> Any:
    from essaim.accounts.models import User
    from essaim.communities import services
    from essaim.communities.models import Membership, Role
    from essaim.http import CLI

    owner = User.objects.get(pk=animator)
    community = services.community_create(
        actor=owner, origin=CLI, name=f"Tous {len(members)}", visibility="private"
    )
    Membership.objects.bulk_create(
        [Membership(community=community, user_id=pk, role=Role.MEMBER) for pk in members],
        batch_size=5000,
    )
    return community


async def mention(port: int, animator: str, community: int, tokens: list[str], head: int):
    import httpx
    from websockets.asyncio.client import connect

    arrived: list[float] = []
    sockets: list[Any] = []

    async def listen(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        ws = await connect(f"ws://{HOST}:{port}/ws/", additional_headers=headers, proxy=None,
                           open_timeout=60)  # fmt: skip
        sockets.append(ws)
        await ws.send(json.dumps({"type": "resume", "last_event_id": head}))
        async for raw in ws:
            if json.loads(raw).get("type") == "notification":
                arrived.append(time.perf_counter())

    listeners = []
    for start in range(0, len(tokens), 50):
        listeners += [asyncio.create_task(listen(t)) for t in tokens[start : start + 50]]
        await asyncio.sleep(0.2)
    while len(sockets) < len(tokens):
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    url = f"http://{HOST}:{port}/api/v1/posts"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {animator}"}) as client:
        begin = time.perf_counter()
        answer = await client.post(
            url, json={"community": community, "body": "@all réunion à 15 h"}, timeout=60
        )
        answered = time.perf_counter() - begin
    assert answer.status_code == 201, answer.text
    deadline = time.perf_counter() + 30
    while len(arrived) < len(tokens) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return answered, sorted(at - begin for at in arrived)


def unread_for(users: list[int], community: Any, author: int) -> None:
    """PER_DIGEST unread notifications for each of ``users``, as reactions to posts of
    theirs would make them (one post each, grouped rows of different kinds)."""
    from django.utils import timezone

    from essaim.content.models import Post
    from essaim.notifications.models import Notification

    now = timezone.now()
    posts = Post.objects.bulk_create(
        [Post(author_id=u, community=community, body=f"Rapport {u}", html=f"<p>Rapport {u}</p>")
         for u in users],
        batch_size=5000,
    )  # fmt: skip
    kinds = ["reaction", "reply", "mention", "post", "announcement"][:PER_DIGEST]
    Notification.objects.bulk_create(
        [
            Notification(user_id=post.author_id, kind=kind, priority=1, target_type="post",
                         target_id=post.pk, community=community, actors=[author], created_at=now,
                         updated_at=now)
            for post in posts
            for kind in kinds
        ],
        batch_size=5000,
    )  # fmt: skip


def digests(args: argparse.Namespace, env: dict[str, str]) -> tuple[float, int, int, int]:
    """Seconds from the daily run to the last digest received; e-mails received; people
    due; e-mails sent by a second run."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from essaim.notifications.tasks import digests as daily

    received: list[float] = []

    class Count(Sink):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(time.perf_counter())
            return "250 OK"

    smtp_port = free_port()
    smtp = Controller(Count(), hostname=HOST, port=smtp_port)
    smtp.start()
    env = {**env, "EMAIL_URL": f"smtp://{HOST}:{smtp_port}"}
    command = [str(Path(sys.executable).with_name("essaim")), "worker"]
    log = Path(os.environ["ESSAIM_VAR_DIR"]).parent / "worker.log"
    workers = []
    try:
        with log.open("wb") as out:
            workers = [
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                for _ in range(args.workers)
            ]
        time.sleep(3)  # the workers start
        begin = time.perf_counter()
        due = daily.call()
        deadline = begin + 600
        while len(received) < due and time.perf_counter() < deadline:
            time.sleep(0.1)
        took = (received[-1] if received else time.perf_counter()) - begin
        first = len(received)
        again = daily.call()  # nobody has anything new: no task, no e-mail
        time.sleep(3)
        return took, first, due, len(received) - first + again
    finally:
        for worker in workers:
            stop(worker)
        smtp.stop()


def measure(args: argparse.Namespace) -> int:
    setup(args)
    from essaim.notifications.models import Notification
    from essaim.realtime import events

    started = time.perf_counter()
    everyone = people(args.members + 1)
    (animator, animator_token), members = everyone[0], everyone[1:]
    community = community_of([pk for pk, _raw in members], animator)
    print(f"build       {args.members:,} members in {time.perf_counter() - started:.0f} s")
    with essaim_server(args.processes, animator_token) as port:
        events.publish()
        head = events.head_now()
        tokens = [raw for _pk, raw in members[: args.sockets]]
        answered, arrived = asyncio.run(mention(port, animator_token, community.pk, tokens, head))
    written = Notification.objects.filter(kind="mention").count()
    last = arrived[-1] if arrived else float("inf")
    print(f"(1) @all in a community of {args.members:,}, {args.sockets:,} sockets open")
    print(f"    post answered (every notification written) {answered:6.2f} s; {written:,} rows")
    if arrived:
        print(
            f"    on the sockets: p50 {pct(arrived, 50):5.2f} s  p99 {pct(arrived, 99):5.2f} s  "
            f"last {last:5.2f} s ({len(arrived):,} of {len(tokens):,})"
        )
    met = written == args.members and len(arrived) == len(tokens) and last < MENTION_TARGET_S
    print(f"target      created and delivered within 5 s: {'met' if met else 'MISSED'}")

    Notification.objects.all().delete()
    readers = [pk for pk, _raw in members[: args.digests]]
    unread_for(readers, community, animator)
    took, sent, due, repeated = digests(args, dict(os.environ))
    print(f"(2) daily digests of {due:,} people ({PER_DIGEST} unread each), {args.workers} workers")
    print(f"    {sent:,} e-mails received in {took:6.1f} s ({sent / took:,.0f}/s); second run: "
          f"{repeated} e-mails")  # fmt: skip
    met = sent == due == len(readers) and took < DIGEST_TARGET_S and repeated == 0
    print(
        f"target      10,000 digests within 2 minutes, none repeated: {'met' if met else 'MISSED'}"
    )
    summary = {
        "bench": "notifications",
        "mention": {"answered_s": round(answered, 2), "rows": written,
                    "delivered_p50_s": round(pct(arrived, 50), 2) if arrived else None,
                    "delivered_last_s": round(last, 2), "sockets": len(arrived)},
        "digests": {"people": due, "sent": sent, "seconds": round(took, 1), "repeated": repeated},
    }  # fmt: skip
    print(json.dumps(summary))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000, help="(1) community size")
    parser.add_argument("--sockets", type=int, default=1000, help="(1) members with a socket")
    parser.add_argument("--processes", type=int, default=2, help="(1) server processes (2)")
    parser.add_argument("--digests", type=int, default=10_000, help="(2) people with a digest")
    parser.add_argument("--workers", type=int, default=2, help="(2) worker processes (2)")
    server_options(parser)
    args = parser.parse_args()
    args.digests = min(args.digests, args.members)
    return in_throwaway_database(args, measure)


if __name__ == "__main__":
    sys.exit(main())

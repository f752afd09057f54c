"""Requests/s and latency of `GET /api/v1/me` (token auth) against a bare ASGI app.

Starts two uvicorn servers (1 worker, httptools, uvloop, no access log) on free loopback
ports: Essaim (`essaim.asgi:application`) on a fresh temporary SQLite database — or on
DATABASE_URL when it is set — and bench/hello_asgi.py, the floor below any framework. Then
loads each for --seconds at --concurrency keep-alive connections, after a 1 s warm-up, with
`wrk` when it is on PATH, else with the small asyncio HTTP/1.1 client below. Prints a table
and hello_rps / essaim_rps, the framework's overhead. Figures are printed, never asserted.

    python bench/bench_api_me.py [--seconds 10] [--concurrency 32] [--client auto|wrk|python]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
UVICORN_OPTIONS = ["--workers", "1", "--http", "httptools", "--loop", "uvloop"]
UVICORN_OPTIONS += ["--no-access-log", "--log-level", "warning"]
READ_TIMEOUT = 10.0  # seconds a single response may take before it counts as an error

# Runs only when wrk has finished, so wrk keeps its fast path (no per-request Lua): it
# gives the percentiles that --latency does not print (p95) and the error counts.
# Note: wrk counts only statuses >= 400 as errors; the preflight checks for exactly 200.
WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    p50: float  # milliseconds
    p95: float
    p99: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# --- Servers ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn(app: str, port: int, log: Path, extra: list[str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port)]
    command += [*UVICORN_OPTIONS, *extra]
    with log.open("wb") as out:
        # Own session: a Ctrl-C reaches us, and we stop the servers in order.
        return subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(port: int, path: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_ready(
    proc: subprocess.Popen[bytes],
    log: Path,
    port: int,
    path: str,
    headers: dict[str, str],
    timeout: float = 60,
) -> None:
    """Wait until the server answers 200; fail with its log if it dies or answers otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited:\n{log.read_text()[-3000:]}")
        try:
            status = get(port, path, headers)
        except OSError:
            status = 0
        if status == 200:
            return
        if status or time.monotonic() > deadline:
            raise RuntimeError(
                f"GET {path} on port {port} answered {status or 'nothing'}:\n"
                f"{log.read_text()[-3000:]}"
            )
        time.sleep(0.2)


# --- Essaim's database --------------------------------------------------------------------
def prepare_essaim(var_dir: Path) -> tuple[str, str, int]:
    """Migrate the database and make a user with an API token: (database, token, user id).
    Without DATABASE_URL the database is a fresh SQLite file in ``var_dir``."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["ESSAIM_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from essaim.accounts.models import TokenScope, User
    from essaim.accounts.services import token_create

    call_command("migrate", verbosity=0)
    password = secrets.token_urlsafe(16)
    user = User.objects.create_user(
        f"bench-{secrets.token_hex(4)}@essaim.test", password, display_name="Bench"
    )
    _token, raw = token_create(user=user, name="bench", scope=TokenScope.READ, password=password)
    database = f"{connection.vendor} ({connection.settings_dict['NAME']})"
    connections.close_all()
    return database, raw, user.pk


def forget_user(user_id: int) -> None:
    from django.db import connections

    from essaim.accounts.models import User

    User.objects.filter(pk=user_id).delete()
    connections.close_all()


# --- Load generators ----------------------------------------------------------------------
def run_wrk(
    port: int, path: str, headers: dict[str, str], seconds: float, concurrency: int, script: Path
) -> Result:
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={READ_TIMEOUT:.0f}s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://{HOST}:{port}{path}")
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    match = re.search(r"^RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests, duration_us, errors, p50, p95, p99 = (int(x) for x in match.groups())
    return Result(requests, errors, duration_us / 1e6, p50 / 1000, p95 / 1000, p99 / 1000)


async def read_status(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked body); return its status."""
    head = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    status = int(head[0].split()[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    return status


async def connection_loop(
    port: int, request: bytes, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    """One keep-alive connection sending requests back to back until the deadline."""
    writer = None
    while time.perf_counter() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            started = time.perf_counter()
            writer.write(request)
            status = await asyncio.wait_for(read_status(reader), READ_TIMEOUT)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
        except (OSError, EOFError, ValueError, TimeoutError, asyncio.IncompleteReadError):
            errors.append(0)
            if writer is not None:
                writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def python_load(
    port: int, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> Result:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(connection_loop(port, request, deadline, latencies, errors) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    return Result(len(latencies), len(errors), elapsed, pct(50), pct(95), pct(99))


def run_python(
    port: int, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> Result:
    with suppress(ImportError):
        import uvloop

        return uvloop.run(python_load(port, path, headers, seconds, concurrency))
    return asyncio.run(python_load(port, path, headers, seconds, concurrency))


# --- Main ---------------------------------------------------------------------------------
@contextmanager
def servers_stopped_at_exit() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield procs
    finally:
        for proc in procs:
            stop(proc)
        signal.signal(signal.SIGTERM, previous)


def measure(
    client: str, port: int, path: str, headers: dict[str, str], args: argparse.Namespace, tmp: Path
) -> Result:
    def once(seconds: float) -> Result:
        if client == "wrk":
            script = tmp / "done.lua"
            script.write_text(WRK_DONE)
            return run_wrk(port, path, headers, seconds, args.concurrency, script)
        return run_python(port, path, headers, seconds, args.concurrency)

    once(1)  # warm-up: imports, URL resolution, connection pool
    return once(args.seconds)


def report(rows: list[tuple[str, Result]], header: str) -> None:
    print(header)
    print(
        f"{'target':<24}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'requests':>10}{'errors':>8}"
    )
    for name, r in rows:
        print(
            f"{name:<24}{r.rps:>10,.0f}{r.p50:>9.2f}{r.p95:>9.2f}{r.p99:>9.2f}"
            f"{r.requests:>10,}{r.errors:>8,}"
        )
    hello, essaim = rows[0][1], rows[1][1]
    ratio = hello.rps / essaim.rps if essaim.rps else math.inf
    print(f"framework overhead: hello_rps / essaim_rps = {ratio:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="measurement per target (10)")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections (32)")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when on PATH (auto), or the asyncio client",
    )
    args = parser.parse_args()
    client = (
        "wrk"
        if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        else "python"
    )
    tmp = Path(tempfile.mkdtemp(prefix="essaim-bench-"))
    user_id = None
    try:
        with servers_stopped_at_exit() as procs:
            database, token, user_id = prepare_essaim(tmp / "var")
            auth = {"Authorization": f"Bearer {token}"}
            targets = [
                ("hello  GET /", "hello_asgi:app", "/", {}, ["--app-dir", "bench"]),
                (
                    "essaim GET /api/v1/me",
                    "essaim.asgi:application",
                    "/api/v1/me",
                    auth,
                    ["--lifespan", "off"],
                ),
            ]
            ports = []
            for name, app, path, headers, extra in targets:
                port, log = free_port(), tmp / f"{name.split()[0]}.log"
                procs.append(uvicorn(app, port, log, extra))
                wait_ready(procs[-1], log, port, path, headers)
                ports.append(port)
            rows = [
                (name, measure(client, port, path, headers, args, tmp))
                for (name, _, path, headers, _), port in zip(targets, ports, strict=True)
            ]
        report(
            rows,
            f"uvicorn 1 worker each; Essaim on {database}; load: {client}, "
            f"{args.concurrency} connections, {args.seconds:g} s per target",
        )
    finally:
        if user_id is not None and os.environ.get("DATABASE_URL"):
            forget_user(user_id)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the servers are already stopped (finally blocks)
        print("interrupted", file=sys.stderr)
        sys.exit(130)

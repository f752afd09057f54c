"""What Django alone serves on this machine: the floor below every page target.

Runs bench/floor_django.py (Django's ASGI handler, no middleware, the psycopg pool) under
uvicorn with 1 and 2 worker processes, against a throwaway PostgreSQL database
`essaim_bench_floor` (100,000 rows in 1,000 groups, indexed; dropped at the end), next to
bench/hello_asgi.py (no framework at all), with wrk at --concurrency connections:

- hello: a bare ASGI app;
- django ok: a Django view returning "ok";
- django rows: a Django view running one indexed query (20 rows) and answering JSON.

Compare with `shared/BENCHMARKS.md` (measured on the reference machine): the ratio between
the two tells how much slower this machine is, and what an Essaim page's requests/s can be
next to Django answering one query. Figures are printed, never asserted.

    python bench/bench_floor.py [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_api_me as common
import psycopg

DB_NAME = "essaim_bench_floor"


def make_database(admin_url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    url = admin_url.rsplit("/", 1)[0] + f"/{DB_NAME}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "CREATE TABLE floor_item (id bigserial PRIMARY KEY, grp int NOT NULL,"
            " title text NOT NULL, created_at timestamptz NOT NULL)"
        )
        db.execute(
            "INSERT INTO floor_item (grp, title, created_at) SELECT i % 1000,"
            " 'item ' || i, now() - i * interval '1 minute' FROM generate_series(1, 100000) i"
        )
        db.execute("CREATE INDEX ON floor_item (grp, created_at DESC)")
        db.execute("VACUUM ANALYZE floor_item")
    return url


def drop_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="load per target (10)")
    parser.add_argument("--concurrency", type=int, default=8, help="open connections (8)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="an admin connection to the PostgreSQL server",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_floor needs wrk (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="essaim-floor-"))
    script = tmp / "done.lua"
    script.write_text(common.WRK_DONE)
    rows: list[tuple[str, common.Result]] = []
    try:
        os.environ["FLOOR_DATABASE_URL"] = make_database(args.database_url)
        targets = [
            ("hello", "hello_asgi:app", "/"),
            ("django ok", "floor_django:application", "/ok"),
            ("django rows", "floor_django:application", "/rows"),
        ]
        for workers in (1, 2):
            for name, app, path in targets:
                with common.servers_stopped_at_exit() as procs:
                    port, log = common.free_port(), tmp / "server.log"
                    extra = ["--app-dir", "bench", "--lifespan", "off", "--workers", str(workers)]
                    procs.append(common.uvicorn(app, port, log, extra))
                    common.wait_ready(procs[-1], log, port, path, {})
                    common.run_wrk(port, path, {}, 1, args.concurrency, script)  # warm-up
                    result = common.run_wrk(port, path, {}, args.seconds, args.concurrency, script)
                rows.append((f"{name}, {workers} worker{'s' * (workers > 1)}", result))
    finally:
        drop_database(args.database_url)
        shutil.rmtree(tmp, ignore_errors=True)
    load = f"wrk, {args.concurrency} connections, {args.seconds:g} s each"
    print(f"uvicorn (httptools, uvloop); {load}")
    print(f"{'target':<26}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    for name, r in rows:
        print(f"{name:<26}{r.rps:>10,.0f}{r.p50:>9.2f}{r.p95:>9.2f}{r.errors:>8,}")
    print(json.dumps({"bench": "floor", **{name: round(r.rps) for name, r in rows}}))
    return 1 if any(r.errors for _, r in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, subprocess.CalledProcessError) as error:
        print(error, file=sys.stderr)
        sys.exit(130)

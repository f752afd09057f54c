"""Build a demo organisation of N users into the configured database and time it.

    python bench/generate.py --users 10000
    ESSAIM_VAR_DIR=$(mktemp -d) python bench/generate.py --users 100000
    python bench/generate.py --users 10000 --database-url postgres://postgres@127.0.0.1/essaim_bench_tmp

The database is the one Essaim is configured with (SQLite under var/ or ESSAIM_VAR_DIR,
PostgreSQL with DATABASE_URL or --database-url); it is migrated first and must not hold the
demo organisation yet. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="accounts to create (10000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL or SQLite)")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from essaim.demo import PERSONAS, build_organisation, demo_exists

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    if demo_exists():
        print("The demo organisation is already in this database: use a fresh one.")
        return 1
    summary = build_organisation(users=args.users, seed=args.seed)
    seconds = time.perf_counter() - migrated
    # users + profiles + roles + units + sites
    rows = 2 * summary.users + len(PERSONAS) + summary.units + summary.sites
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database   {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"migrate    {migrated - started:.1f} s")
    print(
        f"created    {summary.users:,} users, {summary.units:,} org units, "
        f"{summary.sites} sites ({rows:,} rows)"
    )
    print(
        f"time       {seconds:.1f} s — {summary.users / seconds:,.0f} users/s, "
        f"{rows / seconds:,.0f} rows/s"
    )
    print(f"peak RSS   {peak_mib:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

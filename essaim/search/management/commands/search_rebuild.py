from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand

from essaim.search.indexer import rebuild

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Build the search index again from the database (after an upgrade that changes "
        "how documents are analysed, or to repair it). Searches see it fill up meanwhile; "
        "changes made during the rebuild are indexed by the worker as usual."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            share = done / total if total else 1.0
            filled = round(share * BAR_WIDTH)
            rate = done / max(time.monotonic() - started, 1e-6)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            sys.stderr.write(f"\r[{bar}] {share:4.0%} {done:,}/{total:,} ({rate:,.0f}/s)")
            sys.stderr.flush()

        done = rebuild(progress)
        sys.stderr.write("\n")
        seconds = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Indexed {done:,} things in {seconds:.1f} s."))

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from essaim.search.indexer import Indexer, index_pending
from essaim.worker import TaskWorker, schedule_daily_tasks


class Command(BaseCommand):
    help = (
        "Run a background task worker: it takes queued tasks (e-mails, previews, "
        "digests) from the database and runs them, and keeps the search index in step "
        "with the database. Run one or more "
        "in production; `essaim serve` runs one in-process on the embedded default."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds between polls when the queue is empty (default 1)",
        )
        parser.add_argument("--batch", action="store_true", help="run the queued tasks, then exit")

    def handle(self, *args: Any, interval: float, batch: bool, **options: Any) -> None:
        schedule_daily_tasks()
        worker = TaskWorker(interval=interval, batch=batch)
        worker.configure_signals()
        if batch:
            while index_pending():
                pass
        else:
            Indexer.start()
        worker.supervise()

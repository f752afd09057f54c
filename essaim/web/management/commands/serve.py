from __future__ import annotations

import os
import threading
from argparse import ArgumentParser
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from essaim.search.indexer import Indexer
from essaim.worker import TaskWorker, schedule_daily_tasks


class Command(BaseCommand):
    help = (
        "Run Essaim's ASGI web server. On the embedded default it also runs the background "
        "worker in the same process (--no-worker when `essaim worker` processes run apart)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--host",
            default=os.environ.get("HOST", "127.0.0.1"),
            help="address to listen on (HOST, default 127.0.0.1)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT", "8000")),
            help="port to listen on (PORT, default 8000)",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="web server processes (more than one needs --no-worker and a shared database)",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="do not run background tasks in this process"
        )

    def handle(
        self, *args: Any, host: str, port: int, processes: int, no_worker: bool, **options: Any
    ) -> None:
        if processes > 1 and not settings.REDIS_URL:
            raise CommandError("--processes above 1 needs REDIS_URL: rate limits must be shared")
        if processes > 1 and not no_worker:
            raise CommandError("--processes above 1 needs --no-worker and `essaim worker` apart")
        if not no_worker:
            schedule_daily_tasks()
            threading.Thread(
                target=TaskWorker().supervise, name="essaim-worker", daemon=True
            ).start()
            Indexer.start()
        self.stdout.write(self.style.SUCCESS(f"Essaim is running on http://{host}:{port}/"))
        from essaim.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, demo_exists

        if demo_exists():
            self.stdout.write(f"Demo sign-in: {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}")
        # proxy_headers off: X-Forwarded-For is believed only from TRUSTED_PROXIES
        # (essaim/http.py), never from whoever connects to this port.
        uvicorn.run(
            "essaim.asgi:application",
            host=host,
            port=port,
            workers=processes,
            proxy_headers=False,
            server_header=False,
            # Events are small JSON frames: compressing them saves little, and each
            # socket's compressor would cost about 40 KiB (bench/bench_realtime.py).
            ws_per_message_deflate=False,
            log_level="info",
        )

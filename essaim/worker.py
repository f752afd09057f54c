"""The background worker: django-tasks' database worker, run as a process
(`essaim worker`) or as a thread beside the web server (`essaim serve`)."""

from __future__ import annotations

import os
import socket

from django_tasks_db.management.commands.db_worker import Worker


class TaskWorker(Worker):
    def __init__(self, *, interval: float = 1.0, batch: bool = False) -> None:
        super().__init__(
            queue_names=["*"],
            excluded_queue_names=[],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=f"{socket.gethostname()}-{os.getpid()}"[:64],
        )

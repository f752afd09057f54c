"""The background worker: django-tasks' database worker, run as a process
(`essaim worker`) or as a thread beside the web server (`essaim serve`).

The library's loop stops at the first database error that is not a lock. A worker
that died silently would leave every queued e-mail waiting forever, so `supervise`
restarts it with a growing pause and logs why; /health/ reports the queue's backlog.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections
from django.db.models import Case, F, When
from django.utils import timezone
from django_tasks.base import Task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger("essaim.worker")

# A task that waited longer than this to start means no worker is taking tasks.
BACKLOG_ALERT_SECONDS = 300
MAX_RESTART_PAUSE = 60.0
# Pauses before each new attempt of a task that met a passing fault (SMTP down…):
# about a day in all, then the task fails and its error stays in the task table.
RETRY_PAUSES = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)


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
        self.restarts = 0
        self.first_pause = 1.0  # seconds before the first restart; doubles up to a minute

    def supervise(self) -> None:
        """Run the loop until it returns normally; after a crash, pause and start again
        (1 s, 2 s, 4 s… up to a minute; the pause resets once a loop has run a while)."""
        pause = self.first_pause
        while self.running:
            started = time.monotonic()
            try:
                self.run()
                return
            except Exception:
                self.restarts += 1
                logger.exception("Background worker stopped; restarting in %.0f s", pause)
                close_old_connections()
            if time.monotonic() - started > MAX_RESTART_PAUSE:
                pause = self.first_pause
            time.sleep(pause)
            pause = min(pause * 2, MAX_RESTART_PAUSE)


def retry_later(task: Task[Any, Any], *, attempt: int, **kwargs: Any) -> bool:
    """Queue ``task`` again after the pause for ``attempt``; False once out of attempts.
    The task takes ``attempt`` as a keyword so each run knows how many came before."""
    if attempt >= len(RETRY_PAUSES):
        return False
    run_after = timezone.now() + timedelta(seconds=RETRY_PAUSES[attempt])
    task.using(run_after=run_after).enqueue(attempt=attempt + 1, **kwargs)
    return True


def oldest_waiting_task_age() -> float:
    """Seconds the oldest ready task has waited to start (0 when none is waiting).
    Read from the database, so it tells about every worker process, not only this one."""
    waiting_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")
    )
    oldest = (
        DBTaskResult.objects.ready()
        .annotate(waiting_since=waiting_since)
        .order_by("waiting_since")
        .values_list("waiting_since", flat=True)
        .first()
    )
    if oldest is None:
        return 0.0
    return max(0.0, (timezone.now() - oldest).total_seconds())


NIGHT_HOUR = 3  # local time of the daily tasks


def next_night(now: datetime | None = None) -> datetime:
    """The next NIGHT_HOUR o'clock, local time."""
    now = timezone.localtime(now)
    at = now.replace(hour=NIGHT_HOUR, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def schedule_daily_tasks() -> None:
    """Daily tasks queue their own next run; a starting worker queues any that is missing
    (a new database, or a run that failed)."""
    from django_tasks import TaskResultStatus

    from essaim.communities.tasks import community_lifecycle
    from essaim.content.tasks import purge_unattached_files
    from essaim.knowledge.tasks import article_reviews
    from essaim.notifications.tasks import digests, next_digest_time
    from essaim.realtime.tasks import prune_events

    nightly = (community_lifecycle, prune_events, purge_unattached_files, article_reviews)
    for daily, when in [*((t, next_night) for t in nightly), (digests, next_digest_time)]:
        waiting = DBTaskResult.objects.filter(
            task_path=daily.module_path,
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        )
        if not waiting.exists():
            daily.using(run_after=when()).enqueue()

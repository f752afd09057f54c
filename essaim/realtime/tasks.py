"""Background tasks of the event stream, run by the worker (essaim/worker.py)."""

from __future__ import annotations

from django_tasks import task

from essaim.worker import next_night

from . import events


@task()
def prune_events() -> int:
    """Once a day: forget the events beyond the kept window, and queue tomorrow's run.
    Also numbers any committed event left unnumbered (its process died before)."""
    events.publish()
    removed = events.prune()
    prune_events.using(run_after=next_night()).enqueue()
    return removed

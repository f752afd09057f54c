"""Background tasks of knowledge, run by the worker (essaim/worker.py)."""

from __future__ import annotations

from django_tasks import task

from essaim.worker import next_night

from . import services


@task()
def article_reviews() -> int:
    """Once a day: ask the authors of the articles whose review day has come "is this
    still true?", and queue tomorrow's run."""
    reminded = services.review_reminders()
    article_reviews.using(run_after=next_night()).enqueue()
    return reminded

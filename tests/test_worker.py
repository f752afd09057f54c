"""The background worker survives database faults, and e-mail survives SMTP faults."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import OperationalError
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from essaim.settings import email_settings
from essaim.worker import RETRY_PAUSES, TaskWorker
from tests.conftest import Personas, free_port


class FailingOnce(TaskWorker):
    """A worker whose first database poll fails as when PostgreSQL restarts."""

    polls = 0

    def run(self) -> None:
        self.polls += 1
        if self.polls == 1:
            raise OperationalError("server closed the connection unexpectedly")
        super().run()


@pytest.mark.django_db(transaction=True)
def test_the_worker_restarts_after_a_database_fault_and_runs_the_queue(
    personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    Client().post("/accounts/password-reset/", {"email": "member@essaim.test"})
    worker = FailingOnce(batch=True, interval=0)
    worker.first_pause = 0  # the pause is not what is tested: no waiting on the clock
    with caplog.at_level(logging.ERROR, logger="essaim.worker"):
        worker.supervise()  # returns once the batch is done
    assert worker.restarts == 1
    assert "restarting" in caplog.text
    assert [m.to for m in mail.outbox] == [["member@essaim.test"]]


@pytest.mark.django_db(transaction=True)
def test_an_email_that_meets_a_smtp_fault_is_sent_later_and_once(
    personas: Personas,
    smtp_server: Controller,
) -> None:
    down = email_settings(f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    with override_settings(**down):
        Client().post("/accounts/password-reset/", {"email": "owner@essaim.test"})
        TaskWorker(batch=True, interval=0).run()
    (retry,) = DBTaskResult.objects.filter(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 1
    assert retry.run_after > timezone.now() + timedelta(seconds=RETRY_PAUSES[0] - 5)
    # The server is back and the pause is over: the mail leaves, exactly once.
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    with override_settings(**email_settings(f"smtp://127.0.0.1:{smtp_server.port}")):
        TaskWorker(batch=True, interval=0).run()
        TaskWorker(batch=True, interval=0).run()
    received = smtp_server.received  # type: ignore[attr-defined]
    assert [m["To"] for m in received] == ["owner@essaim.test"]
    assert not DBTaskResult.objects.filter(status="READY").exists()


@pytest.mark.django_db(transaction=True)
def test_after_the_last_attempt_the_task_fails_visibly(personas: Personas) -> None:
    from essaim.accounts.tasks import send_password_link

    down = email_settings(f"smtp://127.0.0.1:{free_port()}")
    with override_settings(**down):
        send_password_link.enqueue(
            email="owner@essaim.test", language="en", purpose="reset", attempt=len(RETRY_PAUSES)
        )
        TaskWorker(batch=True, interval=0).run()
    (failed,) = DBTaskResult.objects.all()
    assert failed.status == "FAILED" and "ConnectionRefusedError" in failed.exception_class_path
    assert not mail.outbox

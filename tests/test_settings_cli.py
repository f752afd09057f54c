"""Settings from the environment, the production check, and the `essaim` command."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from essaim.settings import email_settings, env_bool

ESSAIM = [sys.executable, "-m", "essaim.cli"]
ROOT = Path(__file__).resolve().parent.parent


def embedded(env: dict[str, str]) -> dict[str, str]:
    """The environment of the embedded default (no PostgreSQL, no Redis) plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return {**clean, **env}


def run(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        args, env=embedded(env), cwd=ROOT, capture_output=True, text=True, timeout=120, **kwargs
    )


def test_email_url_parsing() -> None:
    assert email_settings("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    tls = email_settings("smtp+tls://me%40corp:secret@mail.corp.test:587")
    assert (tls["EMAIL_HOST"], tls["EMAIL_PORT"], tls["EMAIL_USE_TLS"], tls["EMAIL_HOST_USER"]) == (
        "mail.corp.test",
        587,
        True,
        "me@corp",
    )
    assert email_settings("smtps://mail.corp.test")["EMAIL_PORT"] == 465
    with pytest.raises(ImproperlyConfigured):
        email_settings("http://mail.corp.test")


def test_boolean_variables_are_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_FLAG", False)


def test_the_secret_key_is_generated_once_into_var(tmp_path: Path) -> None:
    env = {"ESSAIM_VAR_DIR": str(tmp_path), "SECRET_KEY": ""}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    setup = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='essaim.settings'"
    cmd = [sys.executable, "-c", f"{setup}; django.setup(); {code}"]
    first, second = run(cmd, env).stdout, run(cmd, env).stdout
    assert first == second and len(first.strip()) > 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_mode_passes_check_deploy(tmp_path: Path) -> None:
    env = {
        "ESSAIM_VAR_DIR": str(tmp_path),
        "ESSAIM_PRODUCTION": "true",
        "SECRET_KEY": "p" * 20 + "roduction-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "essaim.example.com",
    }
    result = run([*ESSAIM, "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    missing_key = run([*ESSAIM, "check"], {**env, "SECRET_KEY": ""})
    assert missing_key.returncode != 0 and "SECRET_KEY" in missing_key.stderr


@pytest.mark.parametrize("command", ["serve", "worker", "migrate", "demo", "createuser", "check"])
def test_every_command_has_help(command: str) -> None:
    result = run([*ESSAIM, command, "--help"], {})
    assert result.returncode == 0, result.stderr
    assert "usage: essaim " + command in result.stdout


def test_essaim_alone_lists_its_commands() -> None:
    result = run(ESSAIM, {})
    assert result.returncode == 0
    for command in ("serve", "worker", "migrate", "demo", "createuser"):
        assert command in result.stdout


def wait_for_page(url: str, server: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.2)


# Queued for the night by serve.
DAILY = (
    "essaim.communities.tasks.community_lifecycle",
    "essaim.content.tasks.purge_unattached_files",
    "essaim.knowledge.tasks.article_reviews",
    "essaim.notifications.tasks.digests",
    "essaim.realtime.tasks.prune_events",
)
DAILY_IN = f"({', '.join('?' * len(DAILY))})"
TASKS = "select status from django_tasks_database_dbtaskresult"


def wait_for_task(database: Path) -> str:
    """The status of the one queued task (not the daily one), once it is no longer
    waiting (30 s at most)."""
    deadline = time.monotonic() + 30
    status = "NONE"
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            row = db.execute(f"{TASKS} where task_path not in {DAILY_IN}", DAILY).fetchone()
        status = row[0] if row else "NONE"
        if status not in {"NONE", "READY", "RUNNING"}:
            break
        time.sleep(0.2)
    return status


def test_serve_starts_the_server_and_worker_on_the_embedded_default(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"ESSAIM_VAR_DIR": str(tmp_path), "PORT": str(port)}
    assert run([*ESSAIM, "migrate", "-v0"], env).returncode == 0
    create = run(
        [*ESSAIM, "createuser", "--email", "a@essaim.test", "--name", "A", "--password-stdin"],
        env,
        input="a long enough password\n",
    )
    assert create.returncode == 0, create.stderr
    server = subprocess.Popen(
        [*ESSAIM, "serve"],
        env=embedded(env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        page = wait_for_page(f"{base}/accounts/login/", server)
        assert 'name="password"' in page
        # A password reset queues an e-mail task: the in-process worker must run it.
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = browser.open(f"{base}/accounts/password-reset/", timeout=5).read().decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert csrf
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": csrf.group(1), "email": "a@essaim.test"}
        )
        browser.open(f"{base}/accounts/password-reset/", data=data.encode(), timeout=5)
        assert wait_for_task(tmp_path / "essaim.sqlite3") == "SUCCESSFUL"
        with sqlite3.connect(tmp_path / "essaim.sqlite3") as db:
            daily = "select task_path, status from django_tasks_database_dbtaskresult"
            found = db.execute(daily + " where task_path in " + DAILY_IN, DAILY).fetchall()
            assert sorted(found) == [(path, "READY") for path in DAILY]
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "/accounts/reset/" in output  # the console e-mail backend printed the mail
    assert f"http://127.0.0.1:{port}/" in output

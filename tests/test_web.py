"""The web shell: security headers, the CSP, caching, languages, audit and people pages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from essaim.accounts.models import User
from essaim.accounts.tasks import send_password_link
from essaim.governance.models import AuditEntry
from tests.conftest import Personas
from tests.test_cache_down import UNREACHABLE


def test_pages_carry_security_headers_and_a_csp_without_inline_scripts(
    personas: Personas, signed_in
) -> None:  # type: ignore[no-untyped-def]
    for response in (Client().get("/accounts/login/"), signed_in(personas.member).get("/")):
        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script\s*>", response.text, re.I | re.S)
        tags = re.findall(r"<script\b[^>]*>", response.text, re.I)
        assert scripts and all(not body.strip() for body in scripts)  # every script is a file
        assert all(re.search(r"\ssrc=", tag) for tag in tags), tags
        assert not re.search(r"\son[a-z]+\s*=", response.text, re.I)  # no inline handlers


def test_personal_pages_are_never_cached_by_shared_caches(
    personas: Personas, signed_in, token_client
) -> None:  # type: ignore[no-untyped-def]
    browser, program = signed_in(personas.member), token_client(personas.member)
    pages = ["/", "/notifications/", "/notifications/badge/", "/search/?q=plan", "/chat/",
             "/questions/", "/communities/", "/people/", f"/people/{personas.member.pk}/",
             "/settings/"]  # fmt: skip
    calls = ["/api/v1/me", "/api/v1/notifications", "/api/v1/search?q=plan", "/api/v1/posts"]
    responses = [browser.get(path) for path in pages] + [program.get(path) for path in calls]
    for response in responses:
        assert response.status_code == 200, response.request["PATH_INFO"]
        cache = response["Cache-Control"]
        assert "no-store" in cache and "private" in cache, response.request["PATH_INFO"]
        assert "Cookie" in response["Vary"]


def test_the_home_page_needs_sign_in(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_shell_shows_the_navigation_of_every_domain(personas: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(personas.member).get("/", headers={"Accept-Language": "en"}).content.decode()
    for section in (
        "Home",
        "Communities",
        "Knowledge",
        "Chat",
        "Directory",
        "Search",
        "Notifications",
    ):
        assert section in page
    assert '<main id="main"' in page and "<nav" in page and "<header" in page


def test_language_follows_the_browser_then_the_persons_choice(
    personas: Personas, signed_in
) -> None:  # type: ignore[no-untyped-def]
    assert (
        'lang="fr"'
        in Client().get("/accounts/login/", headers={"Accept-Language": "fr"}).content.decode()
    )
    assert (
        "Mot de passe"
        in Client()
        .get("/accounts/login/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        .content.decode()
    )
    client = signed_in(personas.member)
    client.cookies["csrftoken"] = "k" * 32
    response = client.post(
        "/i18n/language/", {"language": "fr", "next": "/"}, HTTP_X_CSRFTOKEN="k" * 32
    )
    assert response.status_code == 302
    assert User.objects.get(pk=personas.member.pk).language == "fr"
    # The saved choice wins over the browser's language.
    assert 'lang="fr"' in client.get("/", headers={"Accept-Language": "en"}).content.decode()
    bad = client.post("/i18n/language/", {"language": "xx"}, HTTP_X_CSRFTOKEN="k" * 32)
    assert bad.status_code == 400


def test_a_form_without_csrf_token_gets_a_clear_403(personas: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(personas.member).post("/settings/", {"display_name": "Forged"})
    assert response.status_code == 403
    assert User.objects.get(pk=personas.member.pk).display_name == "Member"


def test_settings_form_rejects_bad_input_and_saves_good(personas: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(personas.member)
    client.cookies["csrftoken"] = "k" * 32
    bad = client.post(
        "/settings/", {"display_name": "x" * 500, "language": "fr"}, HTTP_X_CSRFTOKEN="k" * 32
    )
    assert bad.status_code == 400
    assert User.objects.get(pk=personas.member.pk).display_name == "Member"
    good = client.post(
        "/settings/", {"display_name": "Marie", "language": ""}, HTTP_X_CSRFTOKEN="k" * 32
    )
    assert good.status_code == 302
    assert User.objects.get(pk=personas.member.pk).display_name == "Marie"


def test_audit_and_people_pages_are_for_their_roles_only(personas: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in(personas.admin)
    admin.cookies["csrftoken"] = "k" * 32
    response = admin.post(
        f"/manage/people/{personas.owner.pk}/deactivate/", HTTP_X_CSRFTOKEN="k" * 32
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=personas.owner.pk).is_active
    assert AuditEntry.objects.filter(action="user.deactivate").count() == 1
    for allowed in (personas.admin, personas.compliance):
        page = signed_in(allowed).get("/manage/audit/")
        assert page.status_code == 200 and "user.deactivate" in page.content.decode()
    assert signed_in(personas.admin).get("/manage/people/?q=memb").status_code == 200
    for name in ("member", "moderator", "external"):
        client = signed_in(getattr(personas, name))
        assert client.get("/manage/audit/").status_code == 404
        assert client.get("/manage/people/").status_code == 404
    compliance = signed_in(personas.compliance)
    assert compliance.get("/manage/people/").status_code == 404


def test_audit_api_is_for_administrators_and_compliance(personas: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    admin = token_client(personas.admin)
    admin.post(
        f"/api/v1/users/{personas.owner.pk}/roles", {"role": "hr"}, content_type="application/json"
    )
    for reader in (personas.admin, personas.compliance):
        entries = token_client(reader).get("/api/v1/audit").json()["results"]
        assert [e["action"] for e in entries] == ["role.grant"]
        assert entries[0]["data"] == {"role": "hr"}
    for name in ("member", "moderator", "external", "owner"):
        assert token_client(getattr(personas, name)).get("/api/v1/audit").status_code == 403


def test_health_reports_the_database_cache_and_task_queue(db: None) -> None:
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "tasks": "ok",
        "oldest_waiting_task_seconds": 0,
    }


def test_health_says_degraded_when_no_worker_takes_the_tasks(db: None) -> None:
    send_password_link.enqueue(email="x@essaim.test", language="en", purpose="reset")
    fresh = Client().get("/health/").json()
    assert fresh["status"] == "ok" and fresh["oldest_waiting_task_seconds"] < 60
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=10))
    stuck = Client().get("/health/")
    assert stuck.status_code == 200  # the web still serves: no reason to leave the pool
    assert stuck.json()["status"] == "degraded" and stuck.json()["tasks"] == "delayed"
    assert stuck.json()["oldest_waiting_task_seconds"] >= 600


def test_health_is_degraded_when_the_cache_is_down(db: None) -> None:
    # Every node shares Redis: taking them all out of the pool would stop a service that
    # still serves (tests/test_cache_down.py).
    with override_settings(CACHES=UNREACHABLE):
        response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["cache"] == "unavailable"


DATABASE_DOWN = """
import json
import django
from django.test import Client
django.setup()
login = {"username": "a@example.com", "password": "x"}
asked = [("get", "/health/", None), ("get", "/api/v1/me", None)]
asked.append(("post", "/accounts/login/", login))
answers = {}
for method, path, data in asked:
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION="Bearer ess_x")
    response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    answers[path] = [response.status_code, response.get("Retry-After"), response["Content-Type"]]
print(json.dumps(answers))
"""


def test_the_database_unreachable_is_a_503_to_try_again(tmp_path: Path) -> None:
    # A real outage: Essaim in another process, its PostgreSQL pool pointed at a port where
    # nothing listens. Every request that needs the database is a 503 with Retry-After
    # (never a 500, nor a 2xx), within DATABASE_POOL_TIMEOUT.
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",
        "DATABASE_POOL_TIMEOUT": "1",
        "ESSAIM_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "essaim.settings",
        "ALLOWED_HOSTS": "testserver",
    }
    env.pop("REDIS_URL", None)
    ran = subprocess.run(
        [sys.executable, "-c", DATABASE_DOWN], env=env, capture_output=True, text=True, timeout=120
    )
    answers = json.loads(ran.stdout.strip().splitlines()[-1])
    assert answers["/health/"][:2] == [503, None]  # health says so, for the load balancer
    assert answers["/api/v1/me"] == [503, "5", "application/json"]
    assert answers["/accounts/login/"][:2] == [503, "5"]

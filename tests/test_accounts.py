"""Sign-in, throttling, deactivation, password reset by e-mail, argon2."""

from __future__ import annotations

import re

import pytest
from aiosmtpd.controller import Controller
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from essaim.accounts import services
from essaim.accounts.models import ApiToken, User, UserSession
from essaim.governance.models import AuditEntry
from essaim.http import CLI
from essaim.settings import email_settings
from essaim.worker import TaskWorker
from tests.conftest import PASSWORD, Personas

LOGIN = "/accounts/login/"


def sign_in(client: Client, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def test_passwords_are_hashed_with_argon2(personas: Personas) -> None:
    assert personas.member.password.startswith("argon2$")


def test_sign_in_by_email_any_case_and_sign_out(personas: Personas) -> None:
    client = Client()
    response = sign_in(client, "MEMBER@essaim.test", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert UserSession.objects.filter(user=personas.member).count() == 1
    assert client.get("/accounts/logout/").status_code == 405  # sign-out is a POST
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
    assert not UserSession.objects.exists()


@override_settings(MAX_SESSIONS_PER_USER=2)
def test_concurrent_sessions_are_capped_and_the_oldest_ends(personas: Personas) -> None:
    browsers = [Client() for _ in range(3)]
    for browser in browsers:
        assert sign_in(browser, "member@essaim.test", PASSWORD).status_code == 302
    assert [b.get("/").status_code for b in browsers] == [302, 200, 200]
    assert UserSession.objects.filter(user=personas.member).count() == 2


def test_unknown_and_known_emails_get_identical_answers(personas: Personas) -> None:
    known = sign_in(Client(), "member@essaim.test", "wrong password")
    unknown = sign_in(Client(), "nobody@essaim.test", "wrong password")
    inactive = sign_in(Client(), "deactivated@essaim.test", PASSWORD)
    assert known.status_code == unknown.status_code == inactive.status_code == 200

    def text(response) -> str:  # type: ignore[no-untyped-def]
        return re.sub(
            r'value="[^"]*"|name="csrfmiddlewaretoken"[^>]*', "", response.content.decode()
        )

    assert text(known).replace("member@", "X@") == text(unknown).replace("nobody@", "X@")
    assert text(inactive).replace("deactivated@", "X@") == text(known).replace("member@", "X@")


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_ADDRESS=100)
def test_sign_in_is_throttled_per_account(personas: Personas) -> None:
    for i in range(3):
        sign_in(Client(REMOTE_ADDR=f"10.0.0.{i}"), "member@essaim.test", "wrong")
    refused = sign_in(Client(REMOTE_ADDR="10.0.0.9"), "member@essaim.test", PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    # Unknown accounts are throttled the same way: no difference to probe.
    for _ in range(3):
        sign_in(Client(), "nobody@essaim.test", "wrong")
    assert sign_in(Client(), "nobody@essaim.test", "wrong").status_code == 429
    # Another account from the same addresses still signs in.
    assert sign_in(Client(REMOTE_ADDR="10.0.0.9"), "owner@essaim.test", PASSWORD).status_code == 302


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=100, LOGIN_FAILURES_PER_ADDRESS=4)
def test_sign_in_is_throttled_per_address_and_spoofed_forwarding_is_ignored(
    personas: Personas,
) -> None:
    for i in range(4):
        sign_in(
            Client(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"),
            f"user{i}@essaim.test",
            "wrong",
        )
    refused = sign_in(
        Client(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.99"),
        "owner@essaim.test",
        PASSWORD,
    )
    assert refused.status_code == 429 and "Retry-After" in refused
    assert (
        sign_in(Client(REMOTE_ADDR="192.0.2.8"), "owner@essaim.test", PASSWORD).status_code == 302
    )


@override_settings(
    LOGIN_FAILURES_PER_ACCOUNT=100, LOGIN_FAILURES_PER_ADDRESS=2, TRUSTED_PROXIES=["127.0.0.1"]
)
def test_a_trusted_proxy_forwards_the_real_client_address(personas: Personas) -> None:
    def via_proxy(client_address: str) -> Client:
        return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address)

    for _ in range(2):
        sign_in(via_proxy("198.51.100.1"), "member@essaim.test", "wrong")
    assert sign_in(via_proxy("198.51.100.1"), "owner@essaim.test", PASSWORD).status_code == 429
    assert sign_in(via_proxy("198.51.100.2"), "owner@essaim.test", PASSWORD).status_code == 302


def test_deactivation_ends_every_session_and_token_at_once(
    personas: Personas, api_session, token_client
) -> None:  # type: ignore[no-untyped-def]
    browser = Client()
    sign_in(browser, "member@essaim.test", PASSWORD)
    api = api_session(personas.member)
    program = token_client(personas.member)
    assert browser.get("/").status_code == program.get("/api/v1/me").status_code == 200

    admin = api_session(personas.admin)
    response = admin.post(
        f"/api/v1/users/{personas.member.pk}/deactivate",
        REMOTE_ADDR="192.0.2.50",
        HTTP_USER_AGENT="pytest-agent",
    )
    assert response.status_code == 200 and response.json()["is_active"] is False

    assert browser.get("/").status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    assert program.get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.filter(user=personas.member, revoked_at=None).exists()
    assert not UserSession.objects.filter(user=personas.member).exists()
    assert Session.objects.count() == 1  # only the admin's
    entry = AuditEntry.objects.get(action="user.deactivate")
    assert (entry.actor, entry.target_id, entry.ip, entry.user_agent) == (
        personas.admin,
        str(personas.member.pk),
        "192.0.2.50",
        "pytest-agent",
    )
    # Reactivation does not bring the old token back.
    services.user_reactivate(actor=personas.admin, origin=CLI, user=personas.member)
    assert program.get("/api/v1/me").status_code == 401


def test_people_management_is_for_administrators_only(personas: Personas, api_session) -> None:  # type: ignore[no-untyped-def]
    for name in ("member", "moderator", "compliance", "external"):
        client = api_session(getattr(personas, name))
        target = personas.owner.pk
        status = client.post(f"/api/v1/users/{target}/deactivate").status_code
        assert status in (403, 404), name
        assert (
            client.post(
                "/api/v1/users",
                {"email": "x@essaim.test", "display_name": "X"},
                content_type="application/json",
            ).status_code
            == 403
        )
        assert client.post(
            f"/api/v1/users/{target}/roles", {"role": "compliance"}, content_type="application/json"
        ).status_code in (403, 404)
    assert User.objects.get(pk=personas.owner.pk).is_active
    assert not AuditEntry.objects.exists()
    admin = api_session(personas.admin)
    assert admin.post(f"/api/v1/users/{personas.admin.pk}/deactivate").status_code == 403


def worker_runs() -> None:
    TaskWorker(batch=True, interval=0).run()


def link_in(message: mail.EmailMessage, kind: str) -> str:
    """The path of the one-time link in an e-mail (links point at SITE_URL)."""
    found = re.search(rf"http://\S+(/accounts/{kind}/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def choose_password(client: Client, path: str, password: str):  # type: ignore[no-untyped-def]
    form = client.get(path, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    return client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_password_reset_mail_goes_through_the_worker_and_the_link_works(
    personas: Personas, signed_in, token_client
) -> None:  # type: ignore[no-untyped-def]
    old_session, old_token = signed_in(personas.member), token_client(personas.member)
    response = Client().post("/accounts/password-reset/", {"email": "member@essaim.test"})
    same = Client().post("/accounts/password-reset/", {"email": "nobody@essaim.test"})
    assert response.status_code == same.status_code == 302
    assert response["Location"] == same["Location"]
    # Known or not, each request queues the same one task: no timing tells them apart.
    assert DBTaskResult.objects.count() == 2
    assert not mail.outbox  # queued, not sent inline
    worker_runs()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["member@essaim.test"]
    new = "a brand new passphrase 42"
    done = choose_password(Client(), link_in(mail.outbox[0], "reset"), new)
    assert done.status_code == 302
    assert User.objects.get(pk=personas.member.pk).check_password(new)
    # Whoever knew the old password loses what they opened with it.
    assert old_session.get("/").status_code == 302
    assert old_token.get("/api/v1/me").status_code == 401
    assert AuditEntry.objects.filter(action="user.password_set", target_id=personas.member.pk)


@pytest.mark.django_db(transaction=True)
def test_a_reset_link_dies_with_the_deactivation(personas: Personas) -> None:
    Client().post("/accounts/password-reset/", {"email": "member@essaim.test"})
    worker_runs()
    services.user_deactivate(actor=personas.admin, origin=CLI, user=personas.member)
    page = Client().get(link_in(mail.outbox[0], "reset"), follow=True)
    assert "new_password1" not in page.content.decode()
    assert User.objects.get(pk=personas.member.pk).check_password(PASSWORD)
    Client().post("/accounts/password-reset/", {"email": "member@essaim.test"})
    worker_runs()
    assert len(mail.outbox) == 1  # and a deactivated account gets no new link


@pytest.mark.django_db(transaction=True)
def test_an_account_made_by_an_administrator_gets_an_invitation(
    personas: Personas, api_session
) -> None:  # type: ignore[no-untyped-def]
    body = {"email": "new.hire@essaim.test", "display_name": "New Hire", "language": "fr"}
    admin = api_session(personas.admin)
    created = admin.post("/api/v1/users", body, content_type="application/json")
    assert created.status_code == 201
    worker_runs()
    (invitation,) = mail.outbox
    assert invitation.to == ["new.hire@essaim.test"] and "Essaim" in invitation.subject
    assert "Bonjour New Hire" in invitation.body  # in the language the admin chose
    path = link_in(invitation, "welcome")
    # A reset link and an invitation link are not interchangeable.
    assert (
        "new_password1"
        not in Client().get(path.replace("/welcome/", "/reset/"), follow=True).content.decode()
    )
    with override_settings(INVITATION_TIMEOUT=-1):  # opened after it expired
        assert "new_password1" not in Client().get(path, follow=True).content.decode()
    assert choose_password(Client(), path, "my first passphrase 7").status_code == 302
    assert sign_in(Client(), "new.hire@essaim.test", "my first passphrase 7").status_code == 302
    assert "new_password1" not in Client().get(path, follow=True).content.decode()  # used once


@pytest.mark.django_db(transaction=True)
def test_an_account_that_never_had_a_password_can_ask_for_a_link(personas: Personas) -> None:
    services.user_create(actor=None, origin=CLI, email="nopass@essaim.test", display_name="No")
    Client().post("/accounts/password-reset/", {"email": "NoPass@essaim.test"})
    worker_runs()
    assert [m.to for m in mail.outbox] == [["nopass@essaim.test"]]


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    personas: Personas, signed_in, token_client
) -> None:  # type: ignore[no-untyped-def]
    here = Client()
    assert sign_in(here, "member@essaim.test", PASSWORD).status_code == 302
    elsewhere, token = signed_in(personas.member), token_client(personas.member)
    new = "another long passphrase 9"
    wrong = here.post(
        "/settings/password/",
        {"old_password": "not it", "new_password1": new, "new_password2": new},
    )
    assert wrong.status_code == 400
    assert elsewhere.get("/").status_code == 200 and User.objects.get(
        pk=personas.member.pk
    ).check_password(PASSWORD)
    changed = here.post(
        "/settings/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert token.get("/api/v1/me").status_code == 401
    assert sign_in(Client(), "member@essaim.test", new).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_email_url_sends_through_a_real_smtp_server(
    personas: Personas, smtp_server: Controller
) -> None:
    smtp = email_settings(f"smtp://user:p%40ss@127.0.0.1:{smtp_server.port}")
    assert smtp["EMAIL_HOST_PASSWORD"] == "p@ss"
    smtp.pop("EMAIL_HOST_USER"), smtp.pop("EMAIL_HOST_PASSWORD")  # the test server has no AUTH
    with override_settings(**smtp):
        Client().post("/accounts/password-reset/", {"email": "owner@essaim.test"})
        TaskWorker(batch=True, interval=0).run()
    messages = smtp_server.received  # type: ignore[attr-defined]
    assert len(messages) == 1
    assert messages[0]["To"] == "owner@essaim.test"
    assert "/accounts/reset/" in messages[0].get_payload(decode=True).decode()


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=2)
def test_password_reset_requests_are_throttled(personas: Personas) -> None:
    for _ in range(2):
        Client().post("/accounts/password-reset/", {"email": "member@essaim.test"})
    refused = Client().post("/accounts/password-reset/", {"email": "member@essaim.test"})
    assert refused.status_code == 429 and refused["Retry-After"]


def test_reactivation_does_not_revive_a_session_that_raced_the_deactivation(
    personas: Personas,
) -> None:
    browser = Client()
    browser.force_login(personas.deactivated)  # a sign-in that committed after deactivation
    assert UserSession.objects.filter(user=personas.deactivated).exists()
    services.user_reactivate(actor=personas.admin, origin=CLI, user=personas.deactivated)
    assert browser.get("/").status_code == 302
    assert not UserSession.objects.filter(user=personas.deactivated).exists()

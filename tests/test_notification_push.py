"""Web push end to end against a push service on loopback: the browser's subscription
checked and stored per device, the worker's push signed with our VAPID key and
encrypted for the device (decrypted here with the device's key), confidential content
kept out, and endpoints that are gone or keep failing removed."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from essaim.communities import services as communities
from essaim.communities.models import Community, Membership, Role, Visibility
from essaim.content import services as content
from essaim.http import CLI
from essaim.notifications import push
from essaim.notifications.models import Notification, PushSubscription
from essaim.worker import TaskWorker
from tests.conftest import Personas, free_port

pytestmark = pytest.mark.django_db(transaction=True)
API = "/api/v1"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class PushService:
    """A push service on loopback: keeps what it is sent; answers 410 under /gone/ and
    500 under /broken/, 201 otherwise."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                received.append({"path": self.path, "headers": headers, "body": body})
                status = 410 if self.path.startswith("/gone/") else 201
                status = 500 if self.path.startswith("/broken/") else status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def push_service(tmp_path: Path) -> Iterator[PushService]:
    service = PushService()
    with override_settings(
        PUSH_SERVICES=[service.origin],
        VAPID_PRIVATE_KEY=tmp_path / "vapid.pem",
        NOTIFICATION_EMAIL_DELAY=0,
    ):
        yield service
    service.server.shutdown()


class Device:
    """A browser's push keys: its P-256 key pair and its auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint
        public = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": b64(public), "auth": b64(self.auth)},
        }

    def read(self, body: bytes) -> dict[str, str]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth)
        return dict(json.loads(plain))


def team(personas: Personas, *, confidential: bool = False) -> Community:
    community = communities.community_create(
        actor=personas.owner, origin=CLI, name="Projet Soleil", visibility=Visibility.PRIVATE
    )
    Community.objects.filter(pk=community.pk).update(confidential=confidential)
    community.refresh_from_db()
    Membership.objects.create(community=community, user=personas.member, role=Role.MEMBER)
    return community


def run_tasks() -> None:
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    TaskWorker(batch=True, interval=0).run()


def subscribe(client: Client, device: Device) -> Any:
    return client.post(
        f"{API}/notifications/push/subscriptions", device.subscription,
        content_type="application/json",
    )  # fmt: skip


def test_a_mention_is_pushed_signed_and_encrypted_for_the_device(
    personas: Personas, push_service: PushService, api_session: Callable[..., Client]
) -> None:
    client = api_session(personas.member)
    device = Device(f"{push_service.origin}/send/abc")
    made = subscribe(client, device)
    assert made.status_code == 201, made.content
    key = client.get(f"{API}/notifications/push/key").json()["public_key"]
    content.post_create(
        actor=personas.owner,
        community=team(personas),
        body=f"@**Member|{personas.member.pk}** le bilan est prêt",
    )
    run_tasks()
    [sent] = push_service.received
    assert sent["path"] == "/send/abc"
    assert sent["headers"]["content-encoding"] == "aes128gcm"
    assert sent["headers"]["ttl"] == str(push.TTL)
    assert f"k={key}" in sent["headers"]["authorization"]  # signed with our VAPID key
    payload = device.read(sent["body"])
    assert payload["body"] == "Owner mentioned you in @Member le bilan est prêt"
    assert payload["url"].endswith(f"/posts/{Notification.objects.get().target_id}/")
    assert Notification.objects.get().pushed_at is not None
    run_tasks()
    assert len(push_service.received) == 1  # never twice


def test_confidential_content_stays_out_and_gone_endpoints_are_removed(
    personas: Personas, push_service: PushService, api_session: Callable[..., Client]
) -> None:
    client = api_session(personas.member)
    device, gone = Device(f"{push_service.origin}/a"), Device(f"{push_service.origin}/gone/b")
    broken = Device(f"{push_service.origin}/broken/c")
    for each in (device, gone, broken):
        assert subscribe(client, each).status_code == 201
    place = team(personas, confidential=True)
    content.post_create(
        actor=personas.owner, community=place, body=f"@**Member|{personas.member.pk}** code X-42"
    )
    run_tasks()
    bodies = {r["path"]: r["body"] for r in push_service.received}
    payload = device.read(bodies["/a"])
    assert "X-42" not in payload["body"] and "Projet Soleil" not in payload["body"]
    assert "confidential community" in payload["body"]
    remaining = set(PushSubscription.objects.values_list("endpoint", flat=True))
    assert remaining == {device.endpoint, broken.endpoint}  # gone: removed at once
    for n in range(2):  # failing: removed after FAILURES_MAX failures in a row
        content.post_create(
            actor=personas.owner, community=place, body=f"@**Member|{personas.member.pk}** {n}"
        )
        run_tasks()
    assert set(PushSubscription.objects.values_list("endpoint", flat=True)) == {device.endpoint}


def test_bad_subscriptions_are_refused_and_others_devices_are_out_of_reach(
    personas: Personas, push_service: PushService, api_session: Callable[..., Client]
) -> None:
    client = api_session(personas.member)
    good = Device(f"{push_service.origin}/ok")
    bad_endpoints = [
        "https://attacker.example/steal",  # not a push service: the server never calls it
        f"http://127.0.0.1:{free_port()}/other-port",
        "http://169.254.169.254/latest/meta-data",
        f"{push_service.origin.replace('http', 'ftp')}/x",
        "x" * 3000,
    ]
    for endpoint in bad_endpoints:
        refused = client.post(
            f"{API}/notifications/push/subscriptions",
            {**good.subscription, "endpoint": endpoint},
            content_type="application/json",
        )
        assert refused.status_code == 422, endpoint
    for keys in (
        {"p256dh": "not base64!", "auth": good.subscription["keys"]["auth"]},
        {"p256dh": b64(b"\x04" + b"\x00" * 10), "auth": good.subscription["keys"]["auth"]},
        {"p256dh": good.subscription["keys"]["p256dh"], "auth": b64(b"short")},
    ):
        refused = client.post(
            f"{API}/notifications/push/subscriptions",
            {**good.subscription, "keys": keys},
            content_type="application/json",
        )
        assert refused.status_code == 422, keys
    assert not PushSubscription.objects.exists()
    mine = subscribe(client, good).json()
    assert [d["id"] for d in client.get(f"{API}/notifications/push/subscriptions").json()] == [
        mine["id"]
    ]
    # Another person neither lists nor removes it: a 404, like a missing one.
    other = api_session(personas.outsider)
    assert other.get(f"{API}/notifications/push/subscriptions").json() == []
    gone = other.delete(f"{API}/notifications/push/subscriptions/{mine['id']}")
    missing = other.delete(f"{API}/notifications/push/subscriptions/{mine['id'] + 99}")
    assert gone.status_code == missing.status_code == 404
    assert PushSubscription.objects.count() == 1
    assert client.delete(f"{API}/notifications/push/subscriptions/{mine['id']}").status_code == 204
    assert not PushSubscription.objects.exists()


def test_the_app_installs_with_a_manifest_and_a_service_worker(db: None) -> None:
    client = Client()
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["display"] == "standalone"
    worker = client.get("/sw.js")
    assert worker["Content-Type"].startswith("text/javascript")
    assert b'addEventListener("push"' in worker.content

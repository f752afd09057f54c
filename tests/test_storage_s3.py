"""Attached files in an S3-compatible bucket: store, read, serve and delete against a real
S3 server over HTTP on loopback (moto's server, in a thread of this process).

Skipped only when moto is not installed; django-storages and boto3 are then required.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from pytest_django import Settings

from essaim.content.files import delete_stored, file_response, store_upload
from essaim.content.storage import attachments

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

BUCKET = "essaim-files"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(endpoint: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Loopback only, whatever proxy the environment names.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.S3_BUCKET = BUCKET
    settings.S3_ENDPOINT_URL = endpoint
    settings.S3_ACCESS_KEY_ID = CREDENTIALS["aws_access_key_id"]
    settings.S3_SECRET_ACCESS_KEY = CREDENTIALS["aws_secret_access_key"]
    settings.S3_REGION = "us-east-1"
    yield client
    for found in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=found["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client: Any) -> set[str]:
    return {found["Key"] for found in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_the_storage_follows_the_settings(s3: Any, settings: Settings) -> None:
    assert type(attachments()).__name__ == "PrivateBucket"
    settings.S3_BUCKET = ""
    assert type(attachments()).__name__ == "PrivateFolder"


@pytest.mark.django_db  # closing a response closes old database connections
def test_a_document_round_trip(s3: Any) -> None:
    data = b"%PDF-1.7\n" + b"0123456789" * 50_000 + b"\n%%EOF\n"
    stored = store_upload(io.BytesIO(data), "../Résumé.pdf")
    assert stored.name == "Résumé.pdf" and keys(s3) == {stored.key}
    head = s3.head_object(Bucket=BUCKET, Key=stored.key)
    assert head["ContentLength"] == len(data) == stored.size
    grants = s3.get_object_acl(Bucket=BUCKET, Key=stored.key)["Grants"]
    assert not [grant for grant in grants if "URI" in grant["Grantee"]]  # not public

    response = file_response(stored.key, stored.name, stored.mime, inline=True)
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''R%C3%A9sum%C3%A9.pdf"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(data))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == data  # type: ignore[arg-type]
    response.close()

    delete_stored(stored.key, stored.thumb_key)
    assert keys(s3) == set()


@pytest.mark.django_db  # closing a response closes old database connections
def test_an_image_and_its_preview_round_trip(s3: Any) -> None:
    out = io.BytesIO()
    Image.new("RGB", (1200, 600), (255, 0, 0)).save(out, "JPEG", comment=b"secret")
    stored = store_upload(io.BytesIO(out.getvalue()), "photo.jpg")
    assert keys(s3) == {stored.key, stored.thumb_key}
    body = s3.get_object(Bucket=BUCKET, Key=stored.key)["Body"].read()
    assert b"secret" not in body and len(body) == stored.size

    response = file_response(stored.thumb_key, "photo.webp", "image/webp", inline=True)
    assert response["Content-Disposition"] == 'inline; filename="photo.webp"'
    thumb = Image.open(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[arg-type]
    assert (thumb.format, thumb.size) == ("WEBP", (480, 240))
    response.close()

    delete_stored(stored.key, stored.thumb_key)
    assert keys(s3) == set()


def test_a_missing_object_is_not_found(s3: Any) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        file_response(
            "files/2025/01/" + "0" * 32 + ".pdf", "a.pdf", "application/pdf", inline=False
        )


def test_the_bucket_gives_no_url(s3: Any) -> None:
    with pytest.raises(NotImplementedError):
        attachments().url("files/2025/01/" + "0" * 32 + ".pdf")

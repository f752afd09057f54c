"""Where the files attached to posts and comments are kept.

A folder of the server by default, an S3-compatible bucket when ``S3_BUCKET`` is set. Either
way the storage is private: nothing in it has a public URL (the folder lies outside
``MEDIA_ROOT`` and the static files, objects get no ACL), and every download goes through a
view that checks access and calls ``files.file_response`` (SECURITY.md case 32).

The storage is built once per process; a change of the settings it reads (tests'
``settings`` fixture, ``override_settings``) builds it anew.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTINGS = frozenset(
    {
        "FILES_DIR",
        "MEDIA_ROOT",
        "STATIC_ROOT",
        "S3_BUCKET",
        "S3_ENDPOINT_URL",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "S3_REGION",
        "S3_ADDRESSING_STYLE",
    }
)


@functools.cache
def attachments() -> Storage:
    """The storage of attached files, as the settings say."""
    bucket = settings.S3_BUCKET
    if bucket:
        # Imported here: django-storages and boto3 are only needed with a bucket.
        from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]

        class PrivateBucket(S3Storage):
            url = _no_url

        storage: Storage = PrivateBucket(
            bucket_name=bucket,
            endpoint_url=settings.S3_ENDPOINT_URL or None,
            access_key=settings.S3_ACCESS_KEY_ID or None,
            secret_key=settings.S3_SECRET_ACCESS_KEY or None,
            region_name=settings.S3_REGION or "us-east-1",
            # "path" for servers without virtual-host buckets (MinIO, Garage …).
            addressing_style=settings.S3_ADDRESSING_STYLE or None,
            default_acl=None,  # the bucket's own policy: private
            # A download is copied into a temporary file before it is streamed: keep at
            # most 1 MiB of it in memory (the default, 0, keeps it all in memory).
            max_memory_size=1024 * 1024,
        )
        return storage
    folder = Path(settings.FILES_DIR).resolve()
    for served in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
        if served and folder.is_relative_to(Path(served).resolve()):
            raise ImproperlyConfigured(f"FILES_DIR must not be inside {served}: it is served")
    return PrivateFolder(location=folder, base_url=None)


def _no_url(self: Storage, name: str | None, *args: Any, **kwargs: Any) -> str:
    # A URL would let whoever holds it read the file with no access check (a presigned S3
    # URL, or MEDIA_URL that FileSystemStorage falls back to when base_url is None).
    raise NotImplementedError("attached files have no URL: serve them with file_response")


class PrivateFolder(FileSystemStorage):
    url = _no_url


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in SETTINGS:
        attachments.cache_clear()

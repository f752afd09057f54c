"""The floor under any Django page on this machine: Django alone, no Essaim code.

Settings, URLs and views in one module, served by Django's own ASGI handler with the
psycopg connection pool (as DESIGN.md asks), no middleware:

- ``GET /ok``: a view that returns "ok";
- ``GET /rows``: one indexed query on PostgreSQL (the 20 newest rows of one group of
  ``floor_item``), returned as JSON.

    FLOOR_DATABASE_URL=postgres://… uvicorn --app-dir bench floor_django:application
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import django
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

url = urlsplit(os.environ.get("FLOOR_DATABASE_URL", "postgres://postgres@127.0.0.1/postgres"))
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="floor",  # a benchmark: no session, nothing signed
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": url.path.lstrip("/"),
            "USER": url.username or "",
            "HOST": url.hostname or "",
            "PORT": url.port or 5432,
            "OPTIONS": {"pool": {"min_size": 2, "max_size": 8}},
        }
    },
)
django.setup()

ROWS = (
    "SELECT id, title, created_at FROM floor_item WHERE grp = %s ORDER BY created_at DESC LIMIT 20"
)


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


def rows(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(ROWS, [int(request.GET.get("grp", 7))])
        found = [{"id": i, "title": t, "created_at": c} for i, t, c in cursor.fetchall()]
    return JsonResponse({"items": found})


urlpatterns = [path("ok", ok), path("rows", rows)]

from django.core.asgi import get_asgi_application  # noqa: E402 - after settings

application = get_asgi_application()

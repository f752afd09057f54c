"""The ASGI application: Django for HTTP, the event stream's WebSocket at /ws/
(authenticated and Origin-checked by essaim.realtime.credentials)."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from essaim.asgi_http import ThreadedHTTP  # noqa: E402
from essaim.bodylimit import limit_body  # noqa: E402
from essaim.realtime.consumers import EventStream  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": limit_body(ThreadedHTTP(settings.HTTP_THREADS)),
        "websocket": URLRouter([path("ws/", EventStream.as_asgi())]),
    }
)

# What start-up made lives as long as the process: frozen out of the collector's sight,
# and full collections made rarer, as each scans every socket's objects (they paused a
# server for 150-250 ms every 2 s under load; bench/bench_realtime.py).
gc.freeze()
gc.set_threshold(20_000, 20, 50)

"""The ASGI application: Django for HTTP, the event stream's WebSocket at /ws/
(authenticated and Origin-checked by essaim.realtime.credentials)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from essaim.realtime.consumers import EventStream  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter([path("ws/", EventStream.as_asgi())]),
    }
)

# What start-up made lives as long as the process: frozen out of the collector's sight, so
# that its full collections, every few seconds under load, scan only what the sockets add
# (they paused a server for 150-250 ms each before; bench/bench_realtime.py).
gc.freeze()

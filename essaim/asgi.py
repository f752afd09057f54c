"""The ASGI application: Django for HTTP, the event stream's WebSocket at /ws/
(authenticated and Origin-checked by essaim.realtime.credentials)."""

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

"""Django's HTTP handling under ASGI, with each request's synchronous work in one hop.

Django's own ASGIHandler runs a synchronous middleware chain and view through several
hops between the event loop and a thread it starts for each request (the request
signals, the chain, the response's close): on this kind of machine they cost more than
the view of a small page (bench/README.md). Here the whole request (signals,
middleware, view, templates, closing the response and so its database connection) runs
in one call in a thread of a fixed pool, as under a WSGI server; reading the body and
sending the response stay on the event loop, beside the WebSockets of the process."""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.http import HttpResponseBase
from django.urls import set_script_prefix


class ThreadedHTTP(ASGIHandler):
    def __init__(self, threads: int) -> None:
        BaseHandler.__init__(self)  # not ASGIHandler's: it builds an async middleware chain
        self.load_middleware(is_async=False)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="http")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"HTTP only, not {scope['type']}")
        try:
            body = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        try:
            run = contextvars.copy_context().run
            response = await loop.run_in_executor(self.pool, run, self.respond, scope, body)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:  # its file is read while it is sent
                    await loop.run_in_executor(self.pool, response.close)
        finally:
            body.close()

    def respond(self, scope: dict[str, Any], body: Any) -> HttpResponseBase:
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, refused = self.create_request(scope, body)
        response = refused if request is None else self.get_response(request)
        assert response is not None  # create_request gives a request or a response
        response._handler_class = self.__class__  # type: ignore[attr-defined]  # the signal's sender
        if response.streaming:
            close_old_connections()  # the database is done with; the file is not
        else:
            response.close()  # request_finished, in the thread that used the database
        return response

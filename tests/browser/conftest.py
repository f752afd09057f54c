"""Browser fixtures: Debian's Chromium driven by Playwright, one browser for the whole run
of the browser tests and a fresh context (cookies, storage) per test. No browser is ever
downloaded. The pages come from the ASGI application under uvicorn, as in production: the
WebSocket at /ws/ included, which Django's WSGI live server lacks."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP", e.violatedDirective, `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
  e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160) : String(e.target)));
"""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Package scope, not session: while Playwright runs, its asyncio loop stays current in this
# thread, and Django refuses database calls from a thread with a running loop. Stopping it
# after the last browser test keeps the tests that run afterwards unaffected.
@pytest.fixture(scope="package")
def browser(django_db_setup: None) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            "BROWSER TESTS SKIPPED: Debian's chromium is not installed (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    # Meanwhile the tests and their fixtures may use the database from this thread: the
    # server they talk to runs in threads of its own (see asgi_live_server).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class AsgiServer:
    """essaim.asgi under uvicorn in a thread, static files served as by Django's live server.
    It can stop and start again on the same port, as a server restarting under open pages.
    The test's database is the server's too: the same PostgreSQL test database, or
    SQLite's in-memory one, shared between the threads of this process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from essaim.asgi import application

        config = uvicorn.Config(
            ASGIStaticFilesHandler(application),
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.thread is None:
            return
        self.server.should_exit = True
        self.thread.join(10)
        self.thread = None


@pytest.fixture
def asgi_live_server(transactional_db: None) -> Iterator[AsgiServer]:
    """The live ASGI server (HTTP and the WebSocket at /ws/) of new_page's pages; a test may
    stop() and start() it, as a server restarting under open pages."""
    from django.db.backends.signals import connection_created

    opened: weakref.WeakSet[Any] = weakref.WeakSet()  # the server threads' connections

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            return
        opened.add(connection)

    connection_created.connect(on_connect, weak=False)
    server = AsgiServer()
    server.start()
    yield server
    server.stop()
    connection_created.disconnect(on_connect)
    # Under ASGI Django renders an error page (a 404) in a worker thread whose connection
    # nothing closes; PostgreSQL would refuse to drop the test database while it is open.
    for connection in list(opened):
        if connection.connection is not None:
            connection.inc_thread_sharing()  # closed from this thread, the server stopped
            connection.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught exceptions (CSP violations included) of every page."""
    return []


@pytest.fixture
def new_page(
    browser: Browser, asgi_live_server: AsgiServer, console_errors: list[str]
) -> Iterator[Callable[..., Page]]:
    """new_page(width, height, javascript=True): a page in a fresh context."""
    contexts: list[BrowserContext] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"console: {message.text}")

    def on_page_error(error: Exception) -> None:
        console_errors.append(f"pageerror: {error}")

    def make(width: int = 1280, height: int = 800, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=asgi_live_server.url,
            viewport={"width": width, "height": height},
            locale="en-US",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(5000)
        # Name the element and script behind any CSP violation in the console errors.
        context.add_init_script(CSP_REPORTER)
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """screenshot(page, name): a full-page PNG in test-artifacts/ at the repository root."""

    def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

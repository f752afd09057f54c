"""Shared test fixtures: the personas every test uses, API clients, cache isolation.

The personas are the ones of ../shared/STYLE.md. Later issues give them their
community roles (the owner owns, the member belongs, the animator animates …).
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from pytest_django.fixtures import Settings

from essaim.accounts import services
from essaim.accounts.models import Role, TokenScope, User, UserKind, UserRole
from essaim.directory import index as directory_index
from essaim.directory.models import Profile

PASSWORD = "correct horse battery staple"


def pytest_configure(config: pytest.Config) -> None:
    settings.PASSWORD_HASHERS = ["tests.hashers.QuickArgon2PasswordHasher"]
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # A file, not SQLite's shared in-memory database, whose table locks fail at once
        # (no busy timeout) when a browser test's server thread and the test both write.
        name = Path(tempfile.gettempdir()) / f"essaim-test-{os.getpid()}.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)
    # Files the tests store (attachments, the demo's) stay out of the repository's var/.
    settings.FILES_DIR = Path(tempfile.mkdtemp(prefix="essaim-test-files-"))
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        # One Redis database per xdist worker, so that clearing the cache between tests
        # never touches another worker's keys.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        index = 1 + int(worker.removeprefix("gw") or 0) % 15
        parts = urlsplit(redis_url)
        settings.CACHES["default"]["LOCATION"] = urlunsplit(parts._replace(path=f"/{index}"))
        # Pub/sub channels ignore the database: the event bus needs a prefix of its own.
        settings.REDIS_PREFIX = f"essaim-test-{worker}"


@pytest.fixture(autouse=True)
def _own_search_index(tmp_path: Path, settings: Settings) -> None:
    """Each test its own search index: the database rolls back after a test, files do not."""
    settings.SEARCH_INDEX_DIR = tmp_path / "search"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request in French (LocaleMiddleware)
    leaves French active in the thread, and the next test would read its messages."""
    translation.deactivate()
    yield
    translation.deactivate()


@dataclass
class Personas:
    owner: User
    member: User
    outsider: User
    external: User
    animator: User
    moderator: User
    compliance: User
    hr: User
    admin: User
    deactivated: User

    def all(self) -> list[User]:
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def items(self) -> list[tuple[str, User]]:
        return [(name, getattr(self, name)) for name in self.__dataclass_fields__]


def make_user(name: str, *, kind: UserKind = UserKind.EMPLOYEE, **fields: object) -> User:
    """A person as the app makes them: with a profile, findable in the directory."""
    user = User.objects.create_user(
        f"{name}@essaim.test", PASSWORD, display_name=name.capitalize(), kind=kind, **fields
    )
    Profile.objects.create(user=user, manager_path=f"/{user.pk}/")
    directory_index.reindex([user.pk])
    return user


@pytest.fixture
def personas(db: None) -> Personas:
    people = Personas(
        owner=make_user("owner"),
        member=make_user("member"),
        outsider=make_user("outsider"),
        external=make_user("external", kind=UserKind.EXTERNAL),
        animator=make_user("animator"),
        moderator=make_user("moderator"),
        compliance=make_user("compliance"),
        hr=make_user("hr"),
        admin=make_user("admin", is_admin=True),
        deactivated=make_user("deactivated", is_active=False),
    )
    UserRole.objects.create(user=people.moderator, role=Role.MODERATOR)
    UserRole.objects.create(user=people.compliance, role=Role.COMPLIANCE)
    UserRole.objects.create(user=people.hr, role=Role.HR)
    return people


CSRF_TOKEN = "k" * 32  # any 32-character secret is valid when cookie and header agree


def with_csrf(client: Client) -> Client:
    """A client whose unsafe requests carry a valid CSRF token (cookie and header), as a
    page's htmx requests do."""
    client.cookies["csrftoken"] = CSRF_TOKEN
    client.defaults["HTTP_X_CSRFTOKEN"] = CSRF_TOKEN
    return client


@pytest.fixture
def signed_in() -> Callable[[User], Client]:
    """A browser-like client signed in as the given person (CSRF enforced)."""

    def make(user: User) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def token_client(db: None) -> Callable[..., Client]:
    """A program's client: ``Authorization: Bearer`` with a fresh token of that person."""

    def make(user: User, scope: TokenScope = TokenScope.WRITE) -> Client:
        _token, secret = services.token_create(
            user=user, name="test", scope=scope, password=PASSWORD
        )
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def api_session(signed_in: Callable[[User], Client]) -> Callable[[User], Client]:
    """A signed-in browser session that sends the CSRF header like Essaim's own pages do."""
    return lambda user: with_csrf(signed_in(user))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if any("BROWSER TESTS SKIPPED" in str(getattr(r, "longrepr", "")) for r in skipped):
        terminalreporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            "Debian's chromium is not installed: the web pages were NOT tested in a browser.\n"
            "Install it (apt-get install chromium) and run `make test` again; CI always does.",
            red=True,
            bold=True,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Controller]:
    """A real SMTP server on loopback that keeps what it receives."""
    received: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
            received.append(message)

    controller = Controller(Keep(), hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.received = received  # type: ignore[attr-defined]
    yield controller
    controller.stop()

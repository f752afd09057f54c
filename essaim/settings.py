"""Essaim settings: one module, configured by environment variables only.

With no variable set, Essaim runs on the embedded default: SQLite under
``var/``, local-memory cache, console e-mail, one process. Production sets
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and
``ESSAIM_PRODUCTION=true`` (see docs/deployment.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ESSAIM_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def generated_secret_key() -> str:
    """A key made once for this installation and kept in var/ (mode 600)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(64))
    return path.read_text().strip()


def email_settings(url: str) -> dict[str, Any]:
    """Parse EMAIL_URL: smtp://user:pass@host:port (smtp+tls://, smtps://) or console://."""
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not smtp, smtps or console"
        )
    query = parse_qs(parts.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": int(query.get("timeout", ["10"])[0]),
    }


# --- Core ---------------------------------------------------------------------------------
PRODUCTION = env_bool("ESSAIM_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or generated_secret_key()
if PRODUCTION and not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("ESSAIM_PRODUCTION needs SECRET_KEY from the environment")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Addresses of reverse proxies whose X-Forwarded-For we believe (see accounts/throttle.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "essaim.accounts",
    "essaim.directory",
    "essaim.communities",
    "essaim.content",
    "essaim.knowledge",
    "essaim.chat",
    "essaim.realtime",
    "essaim.search",
    "essaim.notifications",
    "essaim.governance",
    "essaim.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "essaim.web.middleware.security_headers",
    "essaim.web.middleware.api_error_shape",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "essaim.web.middleware.user_language",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "essaim.urls"
# Requests one web process serves at once (essaim/asgi_http.py); under DATABASE_POOL_MAX.
HTTP_THREADS = env_int("HTTP_THREADS", 8)
ASGI_APPLICATION = "essaim.asgi.application"
WSGI_APPLICATION = "essaim.wsgi.application"

# Jinja2, from each app's jinja2/ folder: several times faster than Django's template
# language on the long lists of a page (essaim/web/jinja.py).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "essaim.web.jinja.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "essaim.web.context_processors.shell",
                "essaim.web.context_processors.csrf",
            ],
        },
    },
    {  # the templates of Django's and ninja's own pages (the API docs)
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A pool, not persistent connections: under ASGI CONN_MAX_AGE=None exhausted
        # PostgreSQL's connections within seconds (DESIGN.md, Scale).
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2),
            "max_size": env_int("DATABASE_POOL_MAX", 20),
            # Seconds a request waits for a connection: the database down is a 503
            # within 5 s (essaim.web.views.server_error), not a request hanging.
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 3),
        }
        # No JIT: it compiles the queries the planner costs high (the search engine's
        # walk, with a lookup per query term) for 0.8 s where they run in 10 ms.
        DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "essaim.sqlite3"),
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write
                # lock at BEGIN so concurrent writers wait instead of failing mid-transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, rate limits -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Names this installation's keys and pub/sub channels (channels ignore Redis's numbered
# databases): installations sharing a Redis server need different ones.
REDIS_PREFIX = os.environ.get("ESSAIM_REDIS_PREFIX", "essaim")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "essaim.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            # Redis unreachable is a miss within a second, not a hung request.
            "OPTIONS": {
                "pool_class": "essaim.cache.SharedConnectionPool",
                "socket_connect_timeout": 0.5,
                "socket_timeout": 1,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks ---------------------------------------------------------------------
# The database backend works on SQLite and PostgreSQL alike: `essaim serve` runs a worker
# thread on the embedded default, production runs `essaim worker` processes.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Accounts -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["essaim.accounts.backends.EmailBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
INVITATION_TIMEOUT = 60 * 60 * 24 * 7  # links in the e-mail of an account an admin created
# Sign-in throttling: failures allowed per window, per account and per client address.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 30)
LOGIN_THROTTLE_WINDOW = env_int("LOGIN_THROTTLE_WINDOW", 15 * 60)

# Chat: the size of a group conversation, and the messages one person may send into one
# conversation per window of seconds (more: 429).
CHAT_GROUP_MAX = env_int("CHAT_GROUP_MAX", 50)
CHAT_MESSAGES_PER_WINDOW = env_int("CHAT_MESSAGES_PER_WINDOW", 60)
CHAT_FLOOD_WINDOW = env_int("CHAT_FLOOD_WINDOW", 10)
# Read receipts show in one-to-one conversations and groups of at most this many people.
CHAT_RECEIPTS_MAX = env_int("CHAT_RECEIPTS_MAX", 20)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
MAX_SESSIONS_PER_USER = env_int("MAX_SESSIONS_PER_USER", 20)
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "essaim.web.views.csrf_failure"

# --- E-mail -------------------------------------------------------------------------------
globals().update(email_settings(os.environ.get("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Essaim <no-reply@essaim.localhost>")
# Web push: the VAPID key (a PEM file, made on first use when missing), the contact
# the push services see, and the push services a browser's subscription may name.
VAPID_PRIVATE_KEY = Path(os.environ.get("VAPID_PRIVATE_KEY", VAR_DIR / "vapid_private.pem"))
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:admin@essaim.localhost")
PUSH_SERVICES = env_list(
    "PUSH_SERVICES",
    "fcm.googleapis.com,updates.push.services.mozilla.com,*.notify.windows.com,"
    "web.push.apple.com,*.push.apple.com",
)
# Seconds an urgent notification waits before its e-mail: read in the app meanwhile, it
# is not e-mailed.
NOTIFICATION_EMAIL_DELAY = int(os.environ.get("NOTIFICATION_EMAIL_DELAY", "60"))

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "essaim" / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_TZ = True

# --- Files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
# The search engine: "postgresql" (its tables, beside the data: every web process on every
# machine reads it) where the database is PostgreSQL, else "tantivy" (files on this machine).
ON_POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
SEARCH_ENGINE = os.environ.get("ESSAIM_SEARCH_ENGINE", "postgresql" if ON_POSTGRESQL else "tantivy")
if SEARCH_ENGINE not in ("postgresql", "tantivy") or (
    SEARCH_ENGINE == "postgresql" and not ON_POSTGRESQL
):
    raise ImproperlyConfigured(
        "ESSAIM_SEARCH_ENGINE: tantivy, or postgresql with a PostgreSQL database"
    )
if ON_POSTGRESQL:
    INSTALLED_APPS.append("essaim.search.postgres")
# The tantivy engine's index files.
SEARCH_INDEX_DIR = Path(os.environ.get("ESSAIM_SEARCH_DIR", VAR_DIR / "search"))
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one
STATICFILES_DIRS = [("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist")]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Embedded default serves files straight from their folders; production uses collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Files attached to posts: stored outside anything served as is, read back only through
# the download views (access checked each time); S3-compatible storage when a bucket is
# named (see docs/deployment.md).
FILES_DIR = Path(os.environ.get("ESSAIM_FILES_DIR", VAR_DIR / "files"))
FILE_MAX_BYTES = env_int("ESSAIM_FILE_MAX_BYTES", 25 * 1024 * 1024)
# Larger request bodies are refused before they are read (essaim/bodylimit.py).
REQUEST_MAX_BYTES = env_int("ESSAIM_REQUEST_MAX_BYTES", 110 * 1024 * 1024)
S3_BUCKET = os.environ.get("ESSAIM_S3_BUCKET", "")
S3_ENDPOINT_URL = os.environ.get("ESSAIM_S3_ENDPOINT_URL", "")
S3_ACCESS_KEY_ID = os.environ.get("ESSAIM_S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = os.environ.get("ESSAIM_S3_SECRET_ACCESS_KEY", "")
S3_REGION = os.environ.get("ESSAIM_S3_REGION", "us-east-1")
S3_ADDRESSING_STYLE = os.environ.get("ESSAIM_S3_ADDRESSING_STYLE", "")
# Link previews: only these ports, and no private address unless listed here (tests).
PREVIEW_PORTS = (80, 443)
PREVIEW_ALLOWED_NETWORKS: tuple[str, ...] = ()
PREVIEW_TIMEOUT = 5.0  # seconds for a whole fetch, redirects included

# --- Security -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    # HTTPS is terminated by the reverse proxy, which must set X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- API ----------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_MAX_PER_PAGE_SIZE = 200

# --- Real time ----------------------------------------------------------------------------
# Events kept for clients that resume; one resuming from further back is told to resync.
EVENTS_KEEP = env_int("ESSAIM_EVENTS_KEEP", 100_000)
# How often each process looks at the outbox when it heard nothing (Redis down): the
# longest an event waits then.
EVENTS_FALLBACK_SECONDS = env_int("ESSAIM_EVENTS_FALLBACK_SECONDS", 1)
# How long GET /api/v1/events waits for an event before answering an empty list.
EVENTS_LONG_POLL_MAX_SECONDS = 30

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

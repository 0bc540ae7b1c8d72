"""OMS settings: every deploy-time knob comes from the environment (see .env.example)."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))


def _env(reader, name: str, **kwargs):
    """Read one variable, failing at start with a message that names it."""
    try:
        return reader(name, **kwargs)
    except (ValueError, TypeError, KeyError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{name} has an invalid value: {exc}") from exc


_BOOLEANS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


def _env_bool(name: str, *, default: bool) -> bool:
    """Like env.bool, but a value such as "ture" is an error instead of quietly false."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw not in _BOOLEANS:
        raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")
    return _BOOLEANS[raw]


DEBUG = _env_bool("DJANGO_DEBUG", default=True)

SECRET_KEY = _env(env.str, "DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Development only: a fixed key so sessions survive restarts of a local checkout.
    SECRET_KEY = "django-insecure-oms-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = _env(env.list, "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "accounts",
    "blocking",
    "messageservice",
    "events",
    "realtime",
]

MIDDLEWARE = [
    "oms.middleware.AccessLogMiddleware",
    "oms.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oms.middleware.UnexpectedErrorMiddleware",
]

ROOT_URLCONF = "oms.urls"
# Room for the largest valid form body (1,000 ids to mark read) with its other fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1100
WSGI_APPLICATION = "oms.wsgi.application"
ASGI_APPLICATION = "oms.asgi.application"
# Paths are matched with an optional trailing slash, so nothing is ever redirected.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL via DATABASE_URL=postgres://...
DATABASES = {"default": _env(env.db, "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    raise ImproperlyConfigured(
        "DATABASE_URL must be sqlite:///<path> or postgres://user:password@host:port/name"
    )
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers
    # from several workers wait for each other instead of failing with "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not an in-memory database, so tests can exercise concurrent connections;
    # one per test process, so parallel runs never share it.
    _db.setdefault("TEST", {})["NAME"] = str(Path(tempfile.gettempdir()) / f"oms-test-{os.getpid()}.sqlite3")
else:
    # Served over ASGI, requests and event-stream reads run on several thread pools per process;
    # per-thread persistent connections would pile up until PostgreSQL refuses more: one pool per
    # process instead, handing connections to whichever thread needs one (Django's psycopg pool).
    _pool_size = _env(env.int, "DATABASE_POOL_SIZE", default=16)
    if _pool_size < 1:
        raise ImproperlyConfigured("DATABASE_POOL_SIZE must be 1 or more")
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": _pool_size, "timeout": 10}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Caches and throttles: per-process memory by default, shared Redis with REDIS_URL.
REDIS_URL = _env(env.str, "REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "oms",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Real-time events (events/, realtime/): how long the log is kept, and how wake-ups cross processes.
EVENT_RETENTION_DAYS = _env(env.int, "EVENT_RETENTION_DAYS", default=7)
if EVENT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("EVENT_RETENTION_DAYS must be a whole number of days, 1 or more")
EVENTS_PING_SECONDS = _env(env.float, "EVENTS_PING_SECONDS", default=20.0)
EVENTS_SEND_TIMEOUT_SECONDS = _env(env.float, "EVENTS_SEND_TIMEOUT_SECONDS", default=10.0)
EVENTS_AUTH_TIMEOUT_SECONDS = _env(env.float, "EVENTS_AUTH_TIMEOUT_SECONDS", default=5.0)
EVENTS_SQLITE_POLL_SECONDS = _env(env.float, "EVENTS_SQLITE_POLL_SECONDS", default=0.05)
for _name in ("EVENTS_PING_SECONDS", "EVENTS_SEND_TIMEOUT_SECONDS", "EVENTS_AUTH_TIMEOUT_SECONDS",
              "EVENTS_SQLITE_POLL_SECONDS"):  # fmt: skip
    if not globals()[_name] > 0:
        raise ImproperlyConfigured(f"{_name} must be a positive number of seconds")
if REDIS_URL:
    EVENTS_TRANSPORT = "redis"
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a wake-up is one PUBLISH, pushed to the processes that subscribed to
            # that user's group; nothing is stored, so there is no capacity or expiry to overflow.
            # A wake-up lost while a process reconnects costs latency: the hubs sweep the log.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "prefix": "oms-events"},
        }
    }
else:
    EVENTS_TRANSPORT = "postgres" if _db["ENGINE"] == "django.db.backends.postgresql" else "sqlite"
    CHANNEL_LAYERS = {}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = _env(env.str, "TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Security: production defaults whenever DJANGO_DEBUG is false.
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
if _env_bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = _env(env.int, "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_TRUSTED_ORIGINS = _env(env.list, "DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"

CORS_ALLOWED_ORIGINS = _env(env.list, "CORS_ALLOWED_ORIGINS", default=[])
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed"]
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "user-agent",
)

THROTTLE_AUTH_RATE = _env(env.str, "THROTTLE_AUTH_RATE", default="30/minute")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", THROTTLE_AUTH_RATE):
    raise ImproperlyConfigured(
        "THROTTLE_AUTH_RATE must look like 30/minute (per second, minute, hour or day)"
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["knox.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "oms.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "oms.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Register and login are open to anyone: slow down password guessing per client address.
        "auth": THROTTLE_AUTH_RATE,
    },
    "NUM_PROXIES": _env(env.int, "DJANGO_NUM_PROXIES", default=0),
}

TOKEN_TTL_HOURS = _env(env.float, "TOKEN_TTL_HOURS", default=10.0)
if not TOKEN_TTL_HOURS > 0:
    raise ImproperlyConfigured("TOKEN_TTL_HOURS must be a positive number of hours")

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=TOKEN_TTL_HOURS),
    "USER_SERIALIZER": "accounts.serializers.UserSerializer",
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": (
        "Offline messaging: register, log in, send text messages to other users "
        "and read them later from an inbox, block users, and catch up after being offline."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oms.schema.strip_trailing_slashes",
    ],
}

# Logging: one line per event on stdout; LOG_FORMAT=json for JSON lines, LOG_FILE adds a file.
LOG_FORMAT = _env(env.str, "LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'")
LOG_FILE = _env(env.str, "LOG_FILE", default="")
LOG_LEVEL = _env(env.str, "LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured("LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")

_handlers = ["console"] + (["file"] if LOG_FILE else [])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
        **(
            {
                "file": {
                    "class": "logging.handlers.WatchedFileHandler",
                    "filename": LOG_FILE,
                    "formatter": LOG_FORMAT,
                }
            }
            if LOG_FILE
            else {}
        ),
    },
    "root": {"handlers": _handlers, "level": "WARNING"},
    "loggers": {
        name: {"handlers": _handlers, "level": LOG_LEVEL, "propagate": False}
        for name in ("oms", "accounts", "blocking", "messageservice", "events", "realtime")
    }
    | {
        # Our own middleware logs every request and every unexpected error once;
        # Django's request logger would repeat them.
        "django.request": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}

TEST_RUNNER = "oms.test_runner.PytestTestRunner"

"""OMS settings: every deploy-time knob comes from the environment (see .env.example)."""

from __future__ import annotations

import hashlib
import ipaddress
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
    "drf_spectacular_sidecar",
    "axes",
    "django_prometheus",
    "accounts",
    "blocking",
    "messageservice",
    "events",
    "realtime",
    "webclient",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "oms.middleware.AccessLogMiddleware",
    # Load balancer probes are answered before the host check and the HTTPS redirect.
    "oms.middleware.HealthMiddleware",
    "oms.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Sessions, the session user and flash messages serve the admin; /api/ requests skip them.
    "oms.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "oms.middleware.AuthenticationMiddleware",
    "oms.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "oms.middleware.NoStoreMiddleware",
    "oms.middleware.UnexpectedErrorMiddleware",
    "oms.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "oms.urls"
# Threads serving the HTTP API in each server process (the event stream needs none).
WEB_THREADS = _env(env.int, "WEB_THREADS", default=2)
if WEB_THREADS < 1:
    raise ImproperlyConfigured("WEB_THREADS must be 1 or more")
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
            # Seconds a request waits for another writer before it fails (503) instead of hanging.
            "timeout": _env(env.float, "DATABASE_BUSY_TIMEOUT", default=5.0),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not an in-memory database, so tests can exercise concurrent connections;
    # one per test process, so parallel runs never share it.
    _db.setdefault("TEST", {})["NAME"] = str(Path(tempfile.gettempdir()) / f"oms-test-{os.getpid()}.sqlite3")
_db["CONN_HEALTH_CHECKS"] = True
_IS_POSTGRES = _db["ENGINE"] == "django.db.backends.postgresql"
if _IS_POSTGRES:
    # Served over ASGI, requests and event-stream reads run on several thread pools per process;
    # per-thread persistent connections would pile up until PostgreSQL refuses more: one pool per
    # process instead, handing connections to whichever thread needs one (Django's psycopg pool).
    _pool_size = _env(env.int, "DATABASE_POOL_SIZE", default=16)
    if _pool_size < 1:
        raise ImproperlyConfigured("DATABASE_POOL_SIZE must be 1 or more")
    _db["CONN_MAX_AGE"] = 0
    # A database that accepts connections but never answers must fail a request fast, not hang
    # the worker until the server kills it.
    _connect_timeout = _env(env.int, "DATABASE_CONNECT_TIMEOUT", default=5)
    _statement_timeout = _env(env.int, "DATABASE_STATEMENT_TIMEOUT_MS", default=10_000)
    if _connect_timeout < 1 or _statement_timeout < 0:
        raise ImproperlyConfigured(
            "DATABASE_CONNECT_TIMEOUT must be at least 1 second and DATABASE_STATEMENT_TIMEOUT_MS "
            "at least 0 (0 turns it off)"
        )
    _db.setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": _connect_timeout,
            "options": f"-c statement_timeout={_statement_timeout}",
            "pool": {"min_size": 1, "max_size": _pool_size, "timeout": _connect_timeout},
            # Values sent apart from the SQL, so that psycopg prepares each query the hot path
            # repeats and PostgreSQL stops parsing and planning it on every request.
            "server_side_binding": True,
        }
    )
else:
    # Opening a connection costs more than a request's queries (the file, the pragmas, the
    # schema), so each thread keeps its own open between requests.
    _db["CONN_MAX_AGE"] = _env(env.int, "DATABASE_CONN_MAX_AGE", default=60)
# Counts queries for /metrics; otherwise Django's own backends (oms.db.sqlite3: see its module).
_db["ENGINE"] = _db["ENGINE"].replace("django.db.backends.", "django_prometheus.db.backends.")
_db["ENGINE"] = _db["ENGINE"].replace("django_prometheus.db.backends.sqlite3", "oms.db.sqlite3")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Caches and throttle counters: shared by every worker of one machine through files by default
# (no database query per request), shared by every machine through Redis with REDIS_URL.
REDIS_URL = _env(env.str, "REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "oms",
            # An unreachable Redis fails a request within a second (503) instead of hanging it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    _checkout = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:12]
    # In memory where the system offers it (/dev/shm): the counters need not outlive a restart, and
    # there writing one measured a tenth of what it costs on disk. Both places are shared by every
    # user of the machine, so a directory of that name that is not ours is refused.
    _memory = Path("/dev/shm")  # noqa: S108 (checked below, as the temporary folder is)
    _cache_root = _memory if _memory.is_dir() and os.access(_memory, os.W_OK) else Path(tempfile.gettempdir())
    _cache_dir = _env(env.str, "CACHE_DIR", default="")
    if not _cache_dir:
        _cache_dir = str(_cache_root / f"oms-cache-{_checkout}")
        if os.path.lexists(_cache_dir) and (
            os.path.islink(_cache_dir) or os.stat(_cache_dir).st_uid != os.getuid()
        ):
            raise ImproperlyConfigured(
                f"{_cache_dir} belongs to another user: set CACHE_DIR to a directory of yours"
            )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": _cache_dir,
            # Room for the counters of many clients before old entries are culled.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

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
    EVENTS_TRANSPORT = "postgres" if _IS_POSTGRES else "sqlite"
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


def _env_rate(name: str, *, default: str) -> str:
    rate = _env(env.str, name, default=default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{name} must look like 30/minute (per second, minute, hour or day)")
    return rate


THROTTLE_AUTH_RATE = _env_rate("THROTTLE_AUTH_RATE", default="30/minute")
# Sends per user: far above what a person types, far below flooding an inbox.
THROTTLE_SEND_RATE = _env_rate("THROTTLE_SEND_RATE", default="60/minute")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "oms.parsers.SafeJSONParser",
        "oms.parsers.StrictFormParser",
        "oms.parsers.StrictMultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "oms.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Register and login are open to anyone: slow down password guessing per client address.
        "auth": THROTTLE_AUTH_RATE,
        # Sends per user.
        "send": THROTTLE_SEND_RATE,
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

# Admin login: django-axes locks out a client address, and separately a username, after too many
# failed logins. It counts in Redis when there is one; otherwise in the database, whose increments
# are atomic across workers (a file cache's are not). Either way only login attempts touch it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
ADMIN_LOGIN_FAILURE_LIMIT = _env(env.int, "ADMIN_LOGIN_FAILURE_LIMIT", default=10)
ADMIN_LOGIN_COOLOFF_MINUTES = _env(env.int, "ADMIN_LOGIN_COOLOFF_MINUTES", default=15)
if ADMIN_LOGIN_FAILURE_LIMIT < 1 or ADMIN_LOGIN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("ADMIN_LOGIN_FAILURE_LIMIT and ADMIN_LOGIN_COOLOFF_MINUTES must be at least 1")
AXES_HANDLER = (
    "oms.admin_lockout.AdminOnlyCacheHandler" if REDIS_URL else "oms.admin_lockout.AdminOnlyDatabaseHandler"
)
# Successful logins are not recorded: they would add writes to every login.
AXES_DISABLE_ACCESS_LOG = True
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = ADMIN_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=ADMIN_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_USERNAME_CALLABLE = "accounts.signals.admin_login_username"
AXES_LOCKOUT_CALLABLE = "oms.views.admin_locked_out"
AXES_CLIENT_IP_CALLABLE = "oms.views.client_address"
AXES_WHITELIST_CALLABLE = "oms.admin_lockout.outside_admin"
# Our own receiver logs failed logins without echoing what was typed.
AXES_VERBOSE = False

# Health checks for load balancers, and Prometheus metrics at /metrics for a scraper that sends
# `Authorization: Bearer <METRICS_TOKEN>` or connects from METRICS_ALLOWED_NETWORKS.
READINESS_TIMEOUT = _env(env.float, "READINESS_TIMEOUT", default=2.0)
METRICS_TOKEN = _env(env.str, "METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = _env(env.list, "METRICS_ALLOWED_NETWORKS", default=[])
try:
    METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network(n, strict=False) for n in METRICS_ALLOWED_NETWORKS]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS has an invalid network: {exc}") from exc
# Probes and scrapers often speak plain HTTP to the app server itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
PROMETHEUS_EXPORT_MIGRATIONS = False

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
        "oms.schema.add_common_responses",
    ],
    # Swagger UI's files come from this server (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
        # django-axes logs each failure with the typed username; accounts logs them without it.
        "axes": {"handlers": _handlers, "level": "ERROR", "propagate": False},
    },
}

TEST_RUNNER = "oms.test_runner.PytestTestRunner"

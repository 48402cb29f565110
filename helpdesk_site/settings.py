"""Settings read from the environment (django-environ).

Everything has an embedded default so that `make run` works on a fresh machine: SQLite under var/,
Celery on a filesystem broker under var/, outgoing mail written to var/mail/. Setting DATABASE_URL,
CELERY_BROKER_URL and EMAIL_URL switches to PostgreSQL, Redis and real SMTP.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


VAR_DIR = Path(env.str("HELPDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env_secret("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or SECRET_KEY_FILE), or DEBUG=true for development.")
    SECRET_KEY = "dev-insecure-" + "x" * 50  # noqa: S105 - only ever used with DEBUG on
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "departments",
    "tickets",
    "mailgateway",
    "sla",
    "search",
    "api",
    "webhooks",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if env.bool("HELPDESK_SERVER_TIMING", default=False):
    MIDDLEWARE.insert(0, "helpdesk_site.middleware.ServerTimingMiddleware")

ROOT_URLCONF = "helpdesk_site.urls"
WSGI_APPLICATION = "helpdesk_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.helpdesk",
                "tickets.context_processors.mailbox_health",  # mailgateway.health's, cached briefly
                "sla.context_processors.sla_nav",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: wait for the writer lock instead of failing, and use WAL so the worker and web can share it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the pages' queries run in milliseconds, but a row estimate that is off (the 1 M
    # open "filler" tickets of the benchmark) lifts their cost over jit_above_cost and PostgreSQL then
    # spends ~7 ms compiling a 10 ms count (the agent's queue counts over two departments).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
CACHES["default"].setdefault("KEY_PREFIX", env.str("CACHE_KEY_PREFIX", default=""))
SHARED_CACHE = "locmem" not in CACHES["default"]["BACKEND"] and "dummy" not in CACHES["default"]["BACKEND"]
if SHARED_CACHE:
    # Sessions read from the cache (Redis), written through to the database: no session query per request.
    # Only with a cache all web workers share: a per-process cache would keep a logged-out session alive
    # in the other workers.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("uk", "Українська"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing (before collectstatic)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: attachments go through permission-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Mail -------------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="helpdesk@example.com")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    # A developer reads outgoing mail as files in var/mail/.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
ANYMAIL = {
    "WEBHOOK_SECRET": env_secret("ANYMAIL_WEBHOOK_SECRET", default=None),
    "MAILGUN_API_KEY": env_secret("MAILGUN_API_KEY", default=None),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_secret("MAILGUN_WEBHOOK_SIGNING_KEY", default=None),
}
ADMINS = [("Admin", a) for a in env.list("ADMIN_EMAILS", default=[])]

# --- Celery -----------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # Broadcast/control messages too, or kombu writes a control/ folder into the working directory.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "retry-outbound-email": {"task": "mailgateway.tasks.retry_due_outbound_emails", "schedule": 60.0},
    "poll-mailboxes": {"task": "mailgateway.tasks.poll_mailboxes", "schedule": env.float("HELPDESK_IMAP_POLL_SECONDS", default=60.0)},
    "process-pending-inbound": {"task": "mailgateway.tasks.process_pending_inbound", "schedule": env.float("HELPDESK_INBOUND_SWEEP_SECONDS", default=120.0)},
    "webhook-retry": {"task": "webhooks.tasks.retry_due_deliveries", "schedule": 60.0},
    "sla-sweep": {"task": "sla.tasks.sweep", "schedule": env.float("HELPDESK_SLA_SWEEP_SECONDS", default=60.0)},
    "sla-notify-pending": {"task": "sla.tasks.notify_pending", "schedule": 60.0},
}

# --- Helpdesk ---------------------------------------------------------------------------------------
HELPDESK_ATTACHMENT_MAX_BYTES = env.int("HELPDESK_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
HELPDESK_ATTACHMENT_TYPES = env.list(
    "HELPDESK_ATTACHMENT_TYPES",
    default=["image/png", "image/gif", "image/jpeg", "application/pdf", "text/plain"],
)
HELPDESK_REOPEN_MAX_AGE_DAYS = env.int("HELPDESK_REOPEN_MAX_AGE_DAYS", default=30)
HELPDESK_TICKET_NUMBER_START = 10001
# Customer cabinet guard rails.
HELPDESK_CUSTOMER_TICKETS_PER_HOUR = env.int("HELPDESK_CUSTOMER_TICKETS_PER_HOUR", default=10)
HELPDESK_CUSTOMER_ATTACHMENT_TYPES = env.list(
    "HELPDESK_CUSTOMER_ATTACHMENT_TYPES", default=["image/png", "image/gif", "image/jpeg", "application/pdf"]
)
HELPDESK_CUSTOMER_MAX_FILES = env.int("HELPDESK_CUSTOMER_MAX_FILES", default=10)
HELPDESK_LOGIN_MAX_FAILURES = env.int("HELPDESK_LOGIN_MAX_FAILURES", default=10)
HELPDESK_LOGIN_LOCKOUT_SECONDS = env.int("HELPDESK_LOGIN_LOCKOUT_SECONDS", default=900)
HELPDESK_REGISTRATIONS_PER_HOUR = env.int("HELPDESK_REGISTRATIONS_PER_HOUR", default=20)
HELPDESK_TRUST_X_FORWARDED_FOR = env.bool("HELPDESK_TRUST_X_FORWARDED_FOR", default=False)
# Agent pages (tickets.page_cache): queue counts and menus are cached this many seconds at most (0 = off);
# changes made through the services show at the next page load.
HELPDESK_QUEUE_COUNTS_MAX_AGE = env.int("HELPDESK_QUEUE_COUNTS_MAX_AGE", default=5)
HELPDESK_MENUS_MAX_AGE = env.int("HELPDESK_MENUS_MAX_AGE", default=60)
HELPDESK_MAILBOX_BANNER_MAX_AGE = env.int("HELPDESK_MAILBOX_BANNER_MAX_AGE", default=10)
HELPDESK_ACK_PER_HOUR = env.int("HELPDESK_ACK_PER_HOUR", default=5)  # acknowledgements per sender and hour
HELPDESK_MAILBOX_ALERT_AFTER = env.int("HELPDESK_MAILBOX_ALERT_AFTER", default=3)  # failed polls before alerting
HELPDESK_INBOUND_SWEEP_AFTER = env.int("HELPDESK_INBOUND_SWEEP_AFTER", default=120)  # s before the sweep takes a row
# Stored mails one worker task claims and processes in one transaction (1 = a transaction per mail),
# and how many bytes of raw mail such a batch may load (its first mail always). Larger batches spread
# the per-transaction work thinner (benchmarks/ingest.md: 20 -> 50 took ~170 to ~210 mails/s) and hold
# the tickets they reply to locked longer (a batch of 50 runs ~0.25 s).
HELPDESK_INBOUND_BATCH = env.int("HELPDESK_INBOUND_BATCH", default=50)
HELPDESK_INBOUND_BATCH_BYTES = env.int("HELPDESK_INBOUND_BATCH_BYTES", default=25 * 1024 * 1024)
HELPDESK_IMAP_BATCH = env.int("HELPDESK_IMAP_BATCH", default=200)  # messages fetched per poll

# --- REST API (api app) and webhooks ------------------------------------------------------------------
HELPDESK_API_RATE = env.str("HELPDESK_API_RATE", default="600/min")  # per token ("N/s|min|hour|day")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the browser; enforces CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Tickets, conversations and attachments, with the web UI's permission rules. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],  # the schema and docs are public
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: the docs work offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
HELPDESK_WEBHOOK_TIMEOUT = env.float("HELPDESK_WEBHOOK_TIMEOUT", default=10.0)  # seconds per delivery attempt
HELPDESK_WEBHOOK_MAX_ATTEMPTS = env.int("HELPDESK_WEBHOOK_MAX_ATTEMPTS", default=8)

# --- Security ---------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept default-compatible
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

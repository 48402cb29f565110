"""Test settings: the suite runs against a real PostgreSQL (TEST_DATABASE_URL) and Redis."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-" + "k" * 60)
os.environ.setdefault("HELPDESK_VAR_DIR", "/tmp/helpdesk-test-var")  # noqa: S108 - throwaway test files
# Tests never touch the configured DATABASE_URL: only TEST_DATABASE_URL.
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_test")
# TEST_REDIS_URL gives one suite run its own Redis db (parallel runs on one machine must not share queues).
os.environ.setdefault("CELERY_BROKER_URL", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from .settings import *  # noqa: E402,F403
from .settings import DATABASES  # noqa: E402

# The database named in the URL is the test database itself (pytest-django creates and reuses it).
DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"]}
DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

import pytest

from mailgateway import services

# Real servers (aiosmtpd, dovecot, celery worker subprocess) for the @pytest.mark.e2e tests here.
from tests.e2e.servers import *  # noqa: F403


@pytest.fixture
def ingest(db):
    """ingest(raw, source="pipe") -> the processed InboundEmail row (store, then process inline)."""

    def run(raw: bytes, source: str = "pipe"):
        row, created = services.store_raw(raw, source=source)
        if created:
            services.process_inbound(row.pk)
        row.refresh_from_db()
        return row

    return run


@pytest.fixture(autouse=True)
def _project_celery_app_is_current():
    """tests/e2e/_demo_celery_app.py creates another Celery app, which Celery makes the *current* one;
    shared tasks (ours) would then be sent to its broker instead of running eagerly."""
    from helpdesk_site.celery import app

    app.set_current()
    yield

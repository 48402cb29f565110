import pytest
from django.core.cache import cache
from django.test import Client

from api import services as api_services
from tests.conftest import run_on_commit_callbacks


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """Throttle counters live in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_for(db):
    """api_for(user) -> a test Client that sends the user's new API token on every request."""

    def make(user) -> Client:
        _token, secret = api_services.token_create(user=user, name="tests")
        client = Client(headers={"Authorization": f"Bearer {secret}"})
        client.secret = secret
        return client

    return make


@pytest.fixture
def commit():
    """Run what waits for the commit (outbox mails, webhook deliveries), as a real commit would."""
    return run_on_commit_callbacks

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()  # throttle counters live in the (process-wide) locmem cache
    yield
    cache.clear()

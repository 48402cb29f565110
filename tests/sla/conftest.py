import zoneinfo
from datetime import datetime

import pytest

from sla.models import BusinessHours, SlaPolicy

# Real servers (SMTP sink, Celery worker subprocess) for the @pytest.mark.e2e tests here.
from tests.e2e.servers import *  # noqa: F403

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def clock(time_machine):
    """clock(dt) moves the frozen time to dt; starts on Monday 23 November 2026, 10:00 Berlin."""
    time_machine.move_to(MONDAY_10, tick=False)

    def move(dt: datetime) -> datetime:
        time_machine.move_to(dt, tick=False)
        return dt

    return move


@pytest.fixture
def office_hours(world):
    """Technical support works Monday-Friday 09:00-18:00 Berlin time."""
    week = {str(d): [[540, 1080]] for d in range(5)}
    return BusinessHours.objects.create(department=world.technical, time_zone="Europe/Berlin", schedule=week)


@pytest.fixture
def policy(world, office_hours):
    """First response in 1 business hour, next response in 2, resolution in 8; warning at 80%."""
    return SlaPolicy.objects.create(
        department=world.technical,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=480,
        business_hours=True,
    )

"""One fixed world shared by most tests: Technical support (agent, manager, a departed agent), Sales
(agent), Triage, and two customers. Access-control tests become one-liners against it."""

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import User
from departments.models import Department, Membership
from tests.factories import AgentFactory, DepartmentFactory, UserFactory, member


@dataclass
class World:
    technical: Department
    sales: Department
    triage: Department
    tech_agent: User
    tech_manager: User
    departed_agent: User
    sales_agent: User
    customer: User
    other_customer: User
    admin: User


@pytest.fixture
def world(db) -> World:
    technical = DepartmentFactory(
        slug="technical", name="Technical support", from_email="support@helpdesk.example", form_kind="technical"
    )
    sales = DepartmentFactory(slug="sales", name="Sales", from_email="sales@helpdesk.example", form_kind="sales")
    triage = DepartmentFactory(
        slug="triage", name="Triage", from_email="help@helpdesk.example", is_triage=True, customer_selectable=False
    )
    w = World(
        technical=technical,
        sales=sales,
        triage=triage,
        tech_agent=member(AgentFactory(email="tech@helpdesk.example", display_name="Anna Tech"), technical),
        tech_manager=member(
            AgentFactory(email="boss@helpdesk.example", display_name="Данила Менеджер", language="ru"),
            technical,
            Membership.Role.MANAGER,
        ),
        departed_agent=member(AgentFactory(email="gone@helpdesk.example", display_name="Boris Gone"), technical),
        sales_agent=member(AgentFactory(email="sales.agent@helpdesk.example", display_name="Sam Sales"), sales),
        customer=UserFactory(email="ivan@customer.example", display_name="Иван Петров", language="ru"),
        other_customer=UserFactory(email="alice@customer.example", display_name="Alice Other"),
        admin=UserFactory(
            email="admin@helpdesk.example", is_staff=True, is_superuser=True, is_agent=True, display_name="Admin"
        ),
    )
    member(w.tech_manager, triage)
    return w


@pytest.fixture
def client_for():
    """client_for(user) -> a test Client logged in as that user."""

    def make(user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the agent pages keep counts, menus and the mailbox banner in it
    (tickets.page_cache), and ids of one test's rolled-back rows must not meet another's cached values."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _reset_language_and_zone():
    """Middleware activates the user's language and time zone for the thread and nothing resets them after
    a test-client request; without this a Russian user's request leaves later tests in Russian."""
    yield
    from django.utils import timezone, translation

    translation.deactivate()
    timezone.deactivate()


def run_on_commit_callbacks() -> None:
    """Run callbacks that would have fired on commit (tests run inside a transaction that never commits).

    Same as captureOnCommitCallbacks(execute=True), usable at any point of a test; callbacks queued by
    callbacks (a send that queues another mail) run too.
    """
    from django.db import connection

    while connection.run_on_commit:
        callbacks = connection.run_on_commit[:]
        connection.run_on_commit.clear()
        for _sids, func, _robust in callbacks:
            func()


@pytest.fixture
def sent_mail(db):
    """sent_mail() -> the mails sent so far, after running pending on-commit sends (outbox tasks)."""
    from django.core import mail

    def flush():
        run_on_commit_callbacks()
        return mail.outbox

    return flush

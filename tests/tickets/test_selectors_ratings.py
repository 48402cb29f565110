import pytest

from tickets import services
from tickets.selectors_ratings import rating_by_agent, rating_summary

pytestmark = pytest.mark.django_db


def rated_reply(world, department, agent, score):
    ticket = services.ticket_create(
        customer=world.customer, department=department, subject="s", body_text="b"
    )
    reply = services.ticket_reply(ticket=ticket, author=agent, body_text="r")
    services.reply_rate(message=reply, customer=world.customer, score=score)


def test_ratings_are_counted_per_department_and_agent(world):
    assert rating_summary() == {"count": 0, "average": None, "positive": 0}
    rated_reply(world, world.technical, world.tech_agent, 5)
    rated_reply(world, world.technical, world.tech_agent, 3)
    rated_reply(world, world.technical, world.tech_manager, 4)
    rated_reply(world, world.sales, world.sales_agent, 1)
    assert rating_summary() == {"count": 4, "average": 3.25, "positive": 2}
    assert rating_summary(department=world.technical)["count"] == 3
    rows = rating_by_agent(department=world.technical)
    assert [(r["message__author"], r["count"], float(r["average"])) for r in rows] == [
        (world.tech_agent.pk, 2, 4.0),
        (world.tech_manager.pk, 1, 4.0),
    ]

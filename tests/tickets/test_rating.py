import re

import pytest
from django.urls import reverse

from tests.cabinet_files import english  # noqa: F401 - a fixture
from tickets import services
from tickets.models import Rating
from tickets.services import RatingNotAllowed
from tickets.tokens import rating_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

RATE_LINK = re.compile(r"http://127\.0\.0\.1:8000(/rate/\d+/[0-9a-f]+/)")


@pytest.fixture
def ticket(world):
    return services.ticket_create(
        customer=world.customer, department=world.technical, subject="Slow", body_text="x"
    )


@pytest.fixture
def reply(world, ticket):
    return services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Enabled caching")


def test_service_rates_only_agent_replies_of_own_ticket_and_allows_changing(world, ticket, reply):
    rating = services.reply_rate(message=reply, customer=world.customer, score=4, comment=" ok ")
    assert (rating.score, rating.comment) == (4, "ok")
    services.reply_rate(message=reply, customer=world.customer, score=2)
    assert Rating.objects.get().score == 2
    first = ticket.messages.earliest("pk")
    for kwargs in (
        {"message": first, "customer": world.customer, "score": 5},
        {"message": reply, "customer": world.other_customer, "score": 5},
        {"message": reply, "customer": world.customer, "score": 6},
        {"message": reply, "customer": world.customer, "score": 0},
    ):
        with pytest.raises(RatingNotAllowed):
            services.reply_rate(**kwargs)
    assert Rating.objects.get().score == 2


def test_rate_from_the_cabinet_and_agent_sees_it(client_for, world, ticket, reply):
    client = client_for(world.customer)
    page = client.get(reverse("ticket_detail", args=[ticket.number])).content.decode()
    assert "Rate this answer" in page
    response = client.post(
        reverse("rate_reply", args=[ticket.number, reply.pk]), {"score": "5", "comment": "Great"}
    )
    assert response.status_code == 302
    assert (reply.rating.score, reply.rating.comment) == (5, "Great")
    page = client.get(reverse("ticket_detail", args=[ticket.number])).content.decode()
    assert "Customer rating: 5 of 5" in page and "Rate this answer" not in page
    agent_page = (
        client_for(world.tech_agent).get(reverse("agent_ticket", args=[ticket.number])).content.decode()
    )
    assert "Customer rating: 5 of 5" in agent_page and "Great" in agent_page


def test_invalid_score_from_cabinet_stores_nothing(client_for, world, ticket, reply):
    client_for(world.customer).post(reverse("rate_reply", args=[ticket.number, reply.pk]), {"score": "9"})
    assert not Rating.objects.exists()


def test_customer_message_cannot_be_rated_in_cabinet(client_for, world, ticket):
    first = ticket.messages.get()
    response = client_for(world.customer).post(
        reverse("rate_reply", args=[ticket.number, first.pk]), {"score": "5"}
    )
    assert response.status_code == 404 and not Rating.objects.exists()


def test_signed_link_from_the_reply_mail_get_confirms_post_stores(client, world, ticket, sent_mail):
    sent_mail().clear()
    reply = services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Enabled caching")
    mail = sent_mail()[-1]
    link = RATE_LINK.search(mail.body).group(1)
    html = mail.alternatives[0][0]
    assert f"{link}?score=5" in html and f"{link}?score=1" in html
    page = client.get(link + "?score=4")  # what a mail scanner's prefetch does: nothing is stored
    assert page.status_code == 200 and "Anna Tech" in page.content.decode()
    assert 'value="4" id="rate-link-4" required checked' in page.content.decode()
    assert not Rating.objects.exists()
    response = client.post(link, {"score": "4", "comment": "Fast"})
    assert response.status_code == 200 and "Thank you for your rating" in response.content.decode()
    rating = Rating.objects.get()
    assert (rating.message, rating.score, rating.comment) == (reply, 4, "Fast")
    # Clicking another star later changes the rating.
    client.post(link, {"score": "2"})
    assert Rating.objects.get().score == 2


def test_tampered_or_foreign_links_are_rejected(client, world, ticket, reply):
    good = rating_token(reply.pk, world.customer.pk)
    bad_tokens = [
        good[:-1] + ("0" if good[-1] != "0" else "1"),
        rating_token(reply.pk, world.other_customer.pk),  # signed for someone else
    ]
    for token in bad_tokens:
        url = reverse("rate_by_link", args=[reply.pk, token])
        assert client.get(url).status_code == 404
        assert client.post(url, {"score": "1"}).status_code == 404
    other_reply = services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="second")
    url = reverse("rate_by_link", args=[other_reply.pk, good])  # valid token moved to another message
    assert client.post(url, {"score": "1"}).status_code == 404
    first = ticket.messages.earliest("pk")
    url = reverse("rate_by_link", args=[first.pk, rating_token(first.pk, world.customer.pk)])
    assert client.post(url, {"score": "1"}).status_code == 404  # not an agent reply
    assert not Rating.objects.exists()


def test_link_post_without_score_is_refused(client, world, reply):
    url = reverse("rate_by_link", args=[reply.pk, rating_token(reply.pk, world.customer.pk)])
    response = client.post(url, {"comment": "no score"})
    assert response.status_code == 400 and not Rating.objects.exists()

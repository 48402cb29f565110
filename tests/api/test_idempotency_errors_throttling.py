"""Idempotency-Key on POSTs, the error object shape, and the per-token rate limit."""

from tests.factories import make_ticket
from tickets.models import Message, Ticket

NEW = {"department": "technical", "subject": "Payment API timeout", "body": "Calls time out since noon."}


def test_same_idempotency_key_returns_the_first_response_and_creates_one_ticket(world, api_for):
    api = api_for(world.customer)
    headers = {"Idempotency-Key": "order-4711"}
    first = api.post("/api/v1/tickets/", NEW, content_type="application/json", headers=headers)
    again = api.post("/api/v1/tickets/", NEW, content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.filter(customer=world.customer).count() == 1


def test_same_key_with_another_body_is_refused(world, api_for):
    api = api_for(world.customer)
    headers = {"Idempotency-Key": "k1"}
    api.post("/api/v1/tickets/", NEW, content_type="application/json", headers=headers)
    other = api.post("/api/v1/tickets/", {**NEW, "subject": "Other"}, content_type="application/json", headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert Ticket.objects.filter(customer=world.customer).count() == 1


def test_keys_are_per_user_and_a_failed_request_can_be_retried_with_its_key(world, api_for):
    headers = {"Idempotency-Key": "shared"}
    bad = api_for(world.customer).post("/api/v1/tickets/", {**NEW, "body": ""}, content_type="application/json",
                                       headers=headers)
    assert bad.status_code == 400
    fixed = api_for(world.customer).post("/api/v1/tickets/", NEW, content_type="application/json", headers=headers)
    other_user = api_for(world.other_customer).post("/api/v1/tickets/", NEW, content_type="application/json",
                                                    headers=headers)
    assert fixed.status_code == other_user.status_code == 201
    assert fixed.json()["number"] != other_user.json()["number"]


def test_a_retry_while_the_first_request_still_runs_is_a_conflict(world, api_for):
    from api.models import IdempotencyRecord
    from api.services import fingerprint

    body = b'{"department": "technical", "subject": "s", "body": "b"}'
    IdempotencyRecord.objects.create(  # what the first request reserved and has not finished yet
        user=world.customer, key="slow", fingerprint=fingerprint("POST", "/api/v1/tickets/", body)
    )
    response = api_for(world.customer).post("/api/v1/tickets/", body, content_type="application/json",
                                            headers={"Idempotency-Key": "slow"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_in_progress"
    assert not Ticket.objects.filter(customer=world.customer).exists()


def test_idempotent_reply_is_stored_once(world, api_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    api = api_for(world.tech_agent)
    for _ in range(3):
        response = api.post(f"/api/v1/tickets/{ticket.number}/replies/", {"body": "Once only"},
                            content_type="application/json", headers={"Idempotency-Key": "reply-1"})
        assert response.status_code == 201
    assert Message.objects.filter(ticket=ticket, body_text="Once only").count() == 1


def test_validation_errors_name_each_field(world, api_for):
    response = api_for(world.other_customer).post("/api/v1/tickets/", {"subject": ""}, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid" and error["message"]
    assert set(error["fields"]) == {"department", "subject", "body"}
    assert error["fields"]["body"] == ["This field is required."]


def test_malformed_json_is_a_400_error_object(world, api_for):
    response = api_for(world.customer).post("/api/v1/tickets/", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"


def test_error_messages_follow_the_users_language(world, api_for):
    response = api_for(world.customer).post("/api/v1/tickets/", {}, content_type="application/json")
    assert response.json()["error"]["fields"]["body"] == ["Обязательное поле."]  # the customer is Russian


def test_rate_limit_per_token(world, api_for, settings):
    settings.HELPDESK_API_RATE = "3/min"
    api = api_for(world.tech_agent)
    assert [api.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("/api/v1/me/")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0
    assert api_for(world.tech_agent).get("/api/v1/me/").status_code == 200  # another token has its own budget

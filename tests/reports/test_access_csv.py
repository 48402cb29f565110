import csv
import io

import pytest
from django.urls import reverse

from tests.factories import AgentFactory, member
from tests.reports.conftest import NOVEMBER
from tickets import services

pytestmark = pytest.mark.django_db


def test_agents_without_manager_role_get_404(world, client_for):
    for url in (reverse("reports_index"), reverse("reports_api"), reverse("reports_export", args=["agents"])):
        assert client_for(world.tech_agent).get(url).status_code == 404
        assert client_for(world.customer).get(url).status_code == 404


def test_manager_sees_only_his_departments(world, client_for):
    client = client_for(world.tech_manager)
    assert client.get(reverse("reports_index") + "?department=sales").status_code == 404
    assert client.get(reverse("reports_export", args=["agents"]) + "?department=sales").status_code == 404
    assert client.get(reverse("reports_index") + "?department=technical").status_code == 200
    page = client.get(reverse("reports_index")).content.decode()
    assert "Technical support" in page and ">Sales<" not in page


def test_admin_sees_every_department(world, client_for):
    assert client_for(world.admin).get(reverse("reports_index") + "?department=sales").status_code == 200


def test_customer_has_no_own_report(world, client_for):
    assert client_for(world.customer).get(reverse("reports_own")).status_code == 404


def test_anonymous_is_sent_to_login(client):
    assert client.get(reverse("reports_index")).status_code == 302


def test_csv_has_bom_and_cyrillic_names(history, world, client_for):
    member(AgentFactory(email="olga@helpdesk.example", display_name="Ольга Иванова", language="en"), world.technical)
    response = client_for(history.lead).get(
        reverse("reports_export", args=["agents"]) + "?department=technical&" + NOVEMBER)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Agent", "Tickets replied to", "Replies"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Ольга Иванова"][1:4] == ["0", "0", "0"]
    assert by_name["Данила Менеджер"][2] == "0"
    # Durations in whole seconds, averages with two decimals: figures a spreadsheet can compute with.
    assert by_name["Anna Tech"] == ["Anna Tech", "2", "4", "1", "2", "2700", "2700", "3600", "2", "11700", "1",
                                    "4.50", "2"]
    assert by_name["Boris Gone (inactive)"][1] == "1"


def test_other_csv_tables(history, client_for):
    client = client_for(history.lead)
    for table, first in (("departments", "Department"), ("daily", "Date"), ("ratings", "Stars")):
        response = client.get(reverse("reports_export", args=[table]) + "?department=technical&" + NOVEMBER)
        text = response.content.decode("utf-8-sig")
        assert text.splitlines()[0].split(",")[0] == first
    assert client.get(reverse("reports_export", args=["nope"])).status_code == 404


def test_page_query_count_does_not_grow_with_data(world, client_for, django_assert_max_num_queries):
    lead = member(AgentFactory(email="l2@helpdesk.example", language="en"), world.technical, "manager")
    for i in range(6):
        t = services.ticket_create(customer=world.customer, department=world.technical, subject=f"q{i}",
                                   body_text="x", acknowledge=False)
        reply = services.ticket_reply(ticket=t, author=world.tech_agent, body_text="y", status="resolved")
        services.reply_rate(message=reply, customer=world.customer, score=1 + i % 5)
    client = client_for(lead)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("reports_index") + "?period=365d").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("reports_own")).status_code == 200


def test_names_are_escaped_in_tables(world, client_for):
    member(AgentFactory(email="x@helpdesk.example", display_name="<script>x</script>"), world.technical)
    html = client_for(world.admin).get(reverse("reports_index") + "?department=technical").content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html

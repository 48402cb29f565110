"""The agent pages at their pinned cost (issue 11): query counts per page whatever the number of rows,
and the shortcuts taken for speed (index-friendly queue queries, prepared rows, message HTML rendered
when stored, the hand-written poll query) still show the right tickets to the right people only."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, make_ticket, member
from tickets import services
from tickets.choices import Status
from tickets.message_body import body_for_display, render_body
from tickets.models import Message, Product, Ticket

# session + user + the page's own queries; pinned exactly so an N+1 or a new query per page shows up here.
# With the page cache warm (tickets.page_cache: counts, menus, workspace sidebar, failing-mailbox banner):
QUEUE_QUERIES = 4  # session, user, the agent's departments (and roles: no "manages departments" query),
#   page rows. Under gunicorn with Redis (CACHE_URL) the session comes from the cache: 3.
WORKSPACE_FRAGMENT_QUERIES = 4  # the htmx fragment has no navigation (the full page takes it from the loaded list)
TICKET_QUERIES = 8  # session, user, ticket (and whether it has links), messages, attachments, events,
#   2 mail (held + originals in one, undelivered)
# With the page cache off (HELPDESK_QUEUE_COUNTS_MAX_AGE = HELPDESK_MENUS_MAX_AGE =
# HELPDESK_MAILBOX_BANNER_MAX_AGE = 0), or cold:
QUEUE_QUERIES_UNCACHED = 10  # + no parallel plans, active counts, closed count (per department), bulk menus,
#   saved workspaces of the sidebar (their counts are cached, search app), failing mailboxes
TICKET_QUERIES_UNCACHED = 12  # + canned, the menus (one query), "manages departments" (navigation), failing mailboxes
POLL_QUERIES = 3


def _messages_of(ticket, n, world):
    """n messages alternating customer / agent, like the benchmark's ticket with 50 messages."""
    for i in range(n - ticket.messages.count()):
        if i % 2:
            services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text=f"answer {i}", status=Status.OPEN)
        else:
            services.ticket_customer_message(ticket=ticket, author=world.customer, body_text=f"question {i}")


def _queue_with(world, n, department=None, assignee=None):
    for i in range(n):
        t = make_ticket(UserFactory(), department or world.technical, subject=f"queued {i}", acknowledge=False)
        if i % 3 == 0:
            services.ticket_assign(ticket=t, actor=world.tech_manager, assignee=assignee or world.tech_agent)


# --- Query counts ----------------------------------------------------------------------------------


def _commit():
    """What the commit of a real request does for the page cache: the changes made so far replace their
    tokens (the test's own transaction never commits; until then this connection reads them afresh)."""
    from tickets import page_cache

    pending = page_cache._pending()
    if pending is not None:
        pending()


def _steady(client, url, expected, django_assert_num_queries, **kwargs):
    client.get(url, **kwargs)  # fills the page cache
    with django_assert_num_queries(expected):
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response


def test_queue_page_query_count_is_pinned(world, client_for, django_assert_num_queries):
    agent = client_for(world.tech_agent)
    target = reverse("agent_department_queue", args=["technical"])
    _queue_with(world, 3)
    _commit()
    _steady(agent, target, QUEUE_QUERIES, django_assert_num_queries)
    _queue_with(world, 60)  # more than a page
    with django_assert_num_queries(QUEUE_QUERIES + 3):  # not committed yet: this connection counts afresh
        assert agent.get(target, {"page": 2}).status_code == 200
    _commit()
    _steady(agent, target, QUEUE_QUERIES, django_assert_num_queries, data={"page": 2})
    _steady(agent, target, QUEUE_QUERIES, django_assert_num_queries, data={"sort": "customer", "queue": "mine"})


def test_queue_page_query_count_without_the_page_cache(world, client_for, settings, django_assert_num_queries):
    settings.HELPDESK_QUEUE_COUNTS_MAX_AGE = settings.HELPDESK_MENUS_MAX_AGE = 0
    settings.HELPDESK_MAILBOX_BANNER_MAX_AGE = 0
    agent = client_for(world.tech_agent)
    _queue_with(world, 3)
    _commit()
    _steady(agent, reverse("agent_department_queue", args=["technical"]), QUEUE_QUERIES_UNCACHED, django_assert_num_queries)


def test_workspace_query_count_is_pinned(world, client_for, django_assert_num_queries):
    manager = client_for(world.tech_manager)  # two departments: all of them on one page
    _queue_with(world, 55, assignee=world.tech_manager)
    _queue_with(world, 4, department=world.triage, assignee=world.tech_manager)
    _commit()
    _steady(manager, reverse("agent_queue"), QUEUE_QUERIES, django_assert_num_queries, data={"queue": "mine"})
    response = _steady(
        manager, reverse("agent_queue"), WORKSPACE_FRAGMENT_QUERIES, django_assert_num_queries,
        data={"queue": "unassigned"}, headers={"HX-Request": "true"},
    )  # fmt: skip
    assert "<html" not in response.content.decode()


def test_ticket_page_with_fifty_messages_query_count_is_pinned(
    world, client_for, settings, django_assert_num_queries
):
    agent = client_for(world.tech_agent)
    small = make_ticket(world.customer, world.technical, subject="small", acknowledge=False)
    Ticket.objects.filter(pk=small.pk).update(product=Product.objects.create(name="Router"))  # no query for it
    big = make_ticket(world.customer, world.technical, subject="big", acknowledge=False)
    _messages_of(big, 50, world)
    assert big.messages.count() == 50
    _commit()
    for ticket in (small, big):
        _steady(agent, reverse("agent_ticket", args=[ticket.number]), TICKET_QUERIES, django_assert_num_queries)
    settings.HELPDESK_QUEUE_COUNTS_MAX_AGE = settings.HELPDESK_MENUS_MAX_AGE = 0
    settings.HELPDESK_MAILBOX_BANNER_MAX_AGE = 0
    _steady(agent, reverse("agent_ticket", args=[big.number]), TICKET_QUERIES_UNCACHED, django_assert_num_queries)


def test_poll_query_count_is_pinned(world, client_for, django_assert_num_queries):
    agent = client_for(world.tech_agent)
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    agent.get(reverse("agent_poll"))
    with django_assert_num_queries(POLL_QUERIES):
        agent.get(reverse("agent_poll"))
    with django_assert_num_queries(POLL_QUERIES):
        agent.get(reverse("agent_poll"), {"ticket": ticket.number})


def test_poll_writes_no_session_and_answers_tiny_json(world, client_for, django_assert_num_queries):
    agent = client_for(world.tech_agent)
    ticket = make_ticket(world.customer, world.technical, subject="Disk full", acknowledge=False)
    agent.get(reverse("agent_poll"))
    with django_assert_num_queries(POLL_QUERIES) as ctx:
        response = agent.get(reverse("agent_poll"))
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in ctx.captured_queries)
    assert "sessionid" not in response.cookies and response["Cache-Control"] == "no-store"
    assert response.json() == {"latest": ticket.messages.get().pk, "number": ticket.number, "subject": "Disk full"}
    assert len(response.content) < 200


# --- The pages still show the right tickets --------------------------------------------------------------


def _rows(page: str) -> list[str]:
    return [line for line in page.splitlines() if 'class="queue-row' in line]


def test_queue_page_lists_active_tickets_of_the_department_latest_activity_first(world, client_for):
    old = make_ticket(world.customer, world.technical, subject="Old question", acknowledge=False)
    new = make_ticket(world.other_customer, world.technical, subject="New question", acknowledge=False)
    Ticket.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    closed = make_ticket(world.customer, world.technical, subject="Closed question", acknowledge=False)
    services.ticket_close(ticket=closed, actor=world.tech_agent)
    make_ticket(world.customer, world.sales, subject="Sales question", acknowledge=False)

    page = client_for(world.tech_agent).get(reverse("agent_department_queue", args=["technical"])).content.decode()
    rows = _rows(page)
    assert len(rows) == 2
    assert page.index("New question") < page.index("Old question")
    assert "Closed question" not in page and "Sales question" not in page
    assert f'value="{new.number}" aria-label="Select #{new.number}"' in page
    assert reverse("agent_ticket", args=[old.number]) in page and "Иван Петров" in page and "Alice Other" in page


def test_queue_counts_and_recently_closed_queue(world, client_for):
    for i in range(3):
        make_ticket(world.customer, world.technical, subject=f"open {i}", acknowledge=False)
    closed = make_ticket(world.customer, world.technical, subject="Recently closed", acknowledge=False)
    services.ticket_close(ticket=closed, actor=world.tech_agent)
    long_ago = make_ticket(world.customer, world.technical, subject="Closed long ago", acknowledge=False)
    services.ticket_close(ticket=long_ago, actor=world.tech_agent)
    Ticket.objects.filter(pk=long_ago.pk).update(updated_at=timezone.now() - timedelta(days=90))
    agent = client_for(world.tech_agent)

    page = agent.get(reverse("agent_department_queue", args=["technical"])).content.decode()
    assert '>All open <span class="count">3</span>' in page
    assert '>Recently closed <span class="count">1</span>' in page
    closed_page = agent.get(reverse("agent_department_queue", args=["technical"]), {"queue": "closed"}).content.decode()
    assert "Recently closed" in closed_page and "Closed long ago" not in closed_page
    assert len(_rows(closed_page)) == 1


def test_mine_across_departments_shows_only_the_agents_tickets(world, client_for):
    manager = client_for(world.tech_manager)
    mine = make_ticket(world.customer, world.triage, subject="Triage mine", acknowledge=False)
    services.ticket_assign(ticket=mine, actor=world.tech_manager, assignee=world.tech_manager)
    make_ticket(world.customer, world.technical, subject="Nobody's", acknowledge=False)
    sales = make_ticket(world.customer, world.sales, subject="Sales theirs", acknowledge=False)
    Ticket.objects.filter(pk=sales.pk).update(assignee=world.tech_manager)  # outside his departments

    page = manager.get(reverse("agent_queue"), {"queue": "mine"}).content.decode()
    assert "Triage mine" in page and "Nobody's" not in page and "Sales theirs" not in page
    assert len(_rows(page)) == 1


def test_bulk_menus_offer_colleagues_and_departments_and_still_apply(world, client_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    agent = client_for(world.tech_agent)
    page = agent.get(reverse("agent_queue")).content.decode()
    menu = page[page.index('<select name="assignee"') : page.index("</select>", page.index('<select name="assignee"'))]
    assert "Anna Tech" in menu and "Данила Менеджер" in menu
    assert "Sam Sales" not in menu  # not a colleague of the technical agent
    departments = page[page.index('<select name="department"') :]
    assert "Sales" in departments and "Technical support" in departments
    bulk = {"tickets": [ticket.number], "action": "assign", "assignee": world.tech_manager.pk}
    agent.post(reverse("agent_bulk"), bulk)
    ticket.refresh_from_db()
    assert ticket.assignee == world.tech_manager


# --- Access: 404s are unchanged --------------------------------------------------------------------------


def test_foreign_department_queue_and_ticket_are_404(world, client_for):
    sales_agent = client_for(world.sales_agent)
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    assert sales_agent.get(reverse("agent_department_queue", args=["technical"])).status_code == 404
    assert sales_agent.get(reverse("agent_department_queue", args=["no-such"])).status_code == 404
    assert sales_agent.get(reverse("agent_ticket", args=[ticket.number])).status_code == 404
    assert sales_agent.get(reverse("agent_poll"), {"ticket": ticket.number}).json() == {"latest": 0}
    customer = client_for(world.customer)
    for target in (reverse("agent_queue"), reverse("agent_poll"), reverse("agent_ticket", args=[ticket.number])):
        assert customer.get(target).status_code == 404
    assert client_for(world.admin).get(reverse("agent_department_queue", args=["technical"])).status_code == 200


def test_superuser_poll_sees_every_department(world, client_for):
    ticket = make_ticket(world.customer, world.sales, subject="For the admin", acknowledge=False)
    assert client_for(world.admin).get(reverse("agent_poll")).json()["number"] == ticket.number


# --- Message HTML rendered when stored -------------------------------------------------------------------

HOSTILE_HTML = (
    '<p onclick="steal()">Hello <b>there</b><script>alert(1)</script>'
    '<img src="https://tracker.example/p.gif"><a href="javascript:alert(2)">link</a></p>'
    '<div class="gmail_quote">On Mon, Support wrote:<blockquote>Old <i>advice</i></blockquote></div>'
)


def test_stored_html_is_sanitized_split_and_matches_a_fresh_rendering(world):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    message = services.ticket_customer_message(
        ticket=ticket, author=world.customer, body_text="Hello there", body_html=HOSTILE_HTML
    )
    message.refresh_from_db()
    fresh = render_body(message.body_text, message.body_html)
    assert (message.shown_html, message.quoted_html) == (fresh.shown, fresh.quoted)
    stored = message.shown_html + message.quoted_html
    for bad in ("<script", "alert(1)", "onclick", "javascript:", ' src="https://tracker'):
        assert bad not in stored
    assert "<b>there</b>" in message.shown_html and "Old" not in message.shown_html
    assert "Old <i>advice</i>" in message.quoted_html
    assert message.body_html == HOSTILE_HTML  # the stored original is kept as it came


def test_plain_text_is_escaped_and_quotes_collapsed(world, client_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    services.ticket_customer_message(
        ticket=ticket,
        author=world.customer,
        body_text='<script>alert("x")</script> & more\n\nOn Mon, 1 Jan 2024, Support wrote:\n> restart it',
    )
    page = client_for(world.tech_agent).get(reverse("agent_ticket", args=[ticket.number])).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page
    shown, _, quoted = page.partition('<details class="msg-quoted">')
    assert "restart it" not in shown.split("&amp; more")[1] and "restart it" in quoted


def test_rows_stored_before_the_cache_render_the_same_and_the_command_fills_them(world, client_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    message = services.ticket_customer_message(
        ticket=ticket, author=world.customer, body_text="Hello there", body_html=HOSTILE_HTML
    )
    agent = client_for(world.tech_agent)
    target = reverse("agent_ticket", args=[ticket.number])


    def conversation():
        page = agent.get(target).content.decode()
        return page[page.index('id="conversation"') : page.index('id="new-activity"')]

    cached = conversation()
    assert "<b>there</b>" in cached and "Old <i>advice</i>" in cached
    Message.objects.filter(ticket=ticket).update(shown_html=None, quoted_html="")
    assert conversation() == cached
    call_command("render_message_bodies", stdout=io.StringIO())
    message.refresh_from_db()
    assert message.shown_html and "Old <i>advice</i>" in message.quoted_html
    assert conversation() == cached


def test_inline_images_point_at_their_attachments_in_the_timeline(world):
    from tickets.attachments import IncomingFile

    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    message = services.ticket_customer_message(
        ticket=ticket,
        author=world.customer,
        body_text="see",
        body_html='<p>Look <img src="cid:shot1@x"></p>',
        files=[IncomingFile(filename="shot.png", data=png, content_id="shot1@x", is_inline=True)],
    )
    attachment = message.attachments.get()
    shown = body_for_display(Message.objects.get(pk=message.pk)).shown
    assert f'src="{reverse("attachment_named", args=[attachment.pk, "shot.png"])}"' in shown
    assert "cid:" not in shown


def test_split_copies_the_rendered_body(world):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    message = services.ticket_customer_message(
        ticket=ticket, author=world.customer, body_text="two problems", body_html=HOSTILE_HTML
    )
    new = services.ticket_split(
        ticket=ticket, message=message, actor=world.tech_agent, department=world.technical, subject="second"
    )
    copy = new.messages.get()
    assert (copy.shown_html, copy.quoted_html) == (Message.objects.get(pk=message.pk).shown_html, message.quoted_html)


@pytest.mark.django_db(transaction=True)
def test_generated_dataset_stores_the_timeline_html_the_services_would():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("generate_dataset needs PostgreSQL")
    call_command("generate_dataset", tickets=40, batch=40, stdout=io.StringIO())
    sample = list(Message.objects.order_by("pk")[:50])
    assert sample
    for m in sample:
        rendered = render_body(m.body_text, m.body_html)
        assert (m.shown_html, m.quoted_html) == (rendered.shown, rendered.quoted)


def test_timeline_items_escape_names_reasons_and_comments(world, client_for):
    from tickets.models import Rating

    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    world.tech_agent.display_name = "<b>Evil</b> Agent"
    world.tech_agent.save()
    reply = services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="done")
    Rating.objects.create(message=reply, score=4, comment='<script>x()</script> "ok"')
    services.ticket_transfer(
        ticket=ticket, actor=world.tech_agent, department=world.sales, reason="<i>wrong</i> desk"
    )
    manager = member(UserFactory(is_agent=True, display_name="Sales Boss", language="en"), world.sales)
    page = client_for(manager).get(reverse("agent_ticket", args=[ticket.number])).content.decode()
    conversation = page[page.index('id="conversation"') : page.index('id="new-activity"')]
    assert "&lt;b&gt;Evil&lt;/b&gt; Agent" in conversation and "<b>Evil</b>" not in conversation
    assert "&lt;i&gt;wrong&lt;/i&gt; desk" in conversation and "<i>wrong</i>" not in conversation
    assert "Customer rating: 4 of 5" in conversation
    assert "&lt;script&gt;x()&lt;/script&gt; &quot;ok&quot;" in conversation and "<script>x()" not in conversation
    assert f'href="/agent/tickets/{ticket.number}/split/{reply.pk}/"' in conversation


def test_queue_navigation_knows_managers_from_the_loaded_departments(world, client_for):
    """The navigation's links for managers (service levels, statistics) come from the roles loaded with the
    departments on queue pages, and still match the context processor's answer on other pages."""
    sla, own = reverse("sla_index"), reverse("reports_own")
    for user, manages in ((world.tech_manager, True), (world.tech_agent, False)):
        client = client_for(user)
        for url in (reverse("agent_queue"), reverse("agent_department_queue", args=["technical"]), reverse("search")):
            page = client.get(url).content.decode()
            assert (f'href="{sla}"' in page) is manages, (user, url)
            assert (f'href="{own}"' in page) is not manages, (user, url)

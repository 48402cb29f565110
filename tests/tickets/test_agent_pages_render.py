"""The shortcuts the agent pages take to render faster produce exactly what the slower, general way did:
the conversation's hand-built model instances, memoized form widgets, menus built in Python, the
timeline rendered in one go."""

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from accounts.models import User
from tests.factories import AgentFactory, make_ticket, member
from tickets import services
from tickets.forms import DetailsForm, NoteForm, ReplyForm, TransferForm
from tickets.models import Message, Rating, TicketEvent
from tickets.selectors import conversation


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def busy_ticket(world):
    ticket = make_ticket(world.customer, world.technical, subject="Busy", acknowledge=False)
    reply = services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="answer", cc=["x@example.org"])
    Rating.objects.create(message=reply, score=5, comment="thanks")
    services.ticket_note(ticket=ticket, author=world.tech_manager, body_text="note")
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="more", body_html="<p>more</p>")
    services.ticket_reply(ticket=ticket, author=world.departed_agent, body_text="before leaving")
    Message.objects.create(ticket=ticket, kind="customer", author=None, body_text="from a bounce")
    TicketEvent.objects.create(ticket=ticket, kind="escalated", actor=None, data={"level": 1, "target": "resolution"})
    services.ticket_transfer(ticket=ticket, actor=world.tech_agent, department=world.triage, reason="wrong desk")
    world.departed_agent.is_active = False
    world.departed_agent.save()
    return ticket


def test_conversation_instances_are_the_orms(world, busy_ticket):
    items = conversation(busy_ticket, include_internal=True)
    messages = list(busy_ticket.messages.select_related("author", "rating").order_by("created_at", "pk"))
    events = list(busy_ticket.events.select_related("actor").order_by("created_at", "pk"))
    assert [type(i) for i in items].count(Message) == len(messages) and len(items) == len(messages) + len(events)
    by_pk = {(type(i), i.pk): i for i in items}
    for orm in messages:
        fast = by_pk[(Message, orm.pk)]
        assert _values(fast) == _values(orm) and fast.get_deferred_fields() == set()
        assert (_values(fast.author) if fast.author else None) == (_values(orm.author) if orm.author else None)
        assert fast.ticket is busy_ticket and not fast._state.adding and fast._state.db == "default"
        try:
            expected = _values(orm.rating)
        except Rating.DoesNotExist:
            expected = None
        try:
            got = _values(fast.rating)
        except Rating.DoesNotExist:
            got = None
        assert got == expected
    for orm in events:
        fast = by_pk[(TicketEvent, orm.pk)]
        assert _values(fast) == _values(orm)
        assert (_values(fast.actor) if fast.actor else None) == (_values(orm.actor) if orm.actor else None)
    assert isinstance(by_pk[(Message, messages[0].pk)].cc, list)  # JSON decoded as the ORM does
    public = conversation(busy_ticket, include_internal=False)
    assert all(m.kind != "note" for m in public) and len(public) == len(messages) - 1


def _render(source: str, context: dict, request) -> str:
    return engines["django"].from_string(source).render(context, request=request)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_memoized_widgets_render_as_django_does(world, language):
    request = RequestFactory().get("/")
    request.user = world.tech_agent
    forms = {
        "reply": ReplyForm(initial={"last_seen": 41, "status": "pending"}),
        "other_reply": ReplyForm(initial={"last_seen": 7, "status": "open"}),
        "note": NoteForm(),
        "details": DetailsForm(initial={"subject": 'Quotes " & <b>tags</b> ☃', "product": None}),
        "transfer": TransferForm(ticket=None),
        "bound_reply": ReplyForm(data={"body": "", "cc": "not an address", "status": "open", "last_seen": "3"}),
        "bound_transfer": TransferForm(data={"reason": "<i>x</i>"}, ticket=None),
    }
    with translation.override(language):
        for name, form in forms.items():
            form.is_valid() if form.is_bound else None
            for field in form:
                if field.name in ("department", "product", "assignee"):
                    continue  # per-instance querysets: never rendered through the filter
                for _ in range(2):  # memoized the second time
                    fast = _render("{% load agent_pages %}{{ f|widget }}", {"f": field}, request)
                    assert fast == str(field), (name, field.name)


def test_options_filter_marks_the_same_choice_as_the_template_loops(world):
    pairs = [(1, "Anna"), (2, 'Bob "B" <b>'), (10, "Triage")]
    for selected in (None, 1, 2, "10", "", 3):
        loop = _render(
            '{% with chosen=selected|stringformat:"s" %}{% for pk, name in pairs %}<option value="{{ pk }}"'
            '{% if chosen == pk|stringformat:"s" %} selected{% endif %}>{{ name }}</option>{% endfor %}{% endwith %}',
            {"pairs": pairs, "selected": selected}, None,
        )  # fmt: skip
        fast = _render("{% load agent_pages %}{{ pairs|options:selected }}", {"pairs": pairs, "selected": selected}, None)
        assert fast == loop, selected


def test_timeline_in_one_tag_is_the_items_one_by_one(world, busy_ticket, client_for):
    from tickets.agent_selectors import timeline

    member(AgentFactory(display_name="Other"), world.triage)
    items = timeline(busy_ticket)
    request = RequestFactory().get("/")
    request.user = world.tech_manager
    for language in ("en", "ru", "de"):
        with translation.override(language):
            context = {"items": items, "originals": {items[0].pk}, "csrf_token": "tok"}
            one_by_one = _render(
                "{% load timeline %}{% with agent_view=True %}{% for item in items %}{% timeline_item item %}"
                "{% endfor %}{% endwith %}", context, request,
            )  # fmt: skip
            together = _render("{% load timeline %}{% timeline_items items agent_view=True %}", context, request)
            assert together == one_by_one
    assert User.objects.get(pk=world.departed_agent.pk).is_active is False

"""The customer cabinet: own tickets only. Anything else is 404, by any URL."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.services import mark_ticket_seen
from departments.permissions import access_ticket, is_agent

from .. import services
from ..choices import ACTIVE_STATUSES, DONE_STATUSES, Channel
from ..exceptions import TicketError
from ..forms_customer import NewTicketForm, RatingForm, ReplyForm
from ..models import Message, Ticket
from ..selectors import conversation
from ..selectors_customer import cabinet_tickets


def own_ticket(user, number: int, queryset=None) -> Ticket:
    """The user's own ticket (as its customer), else Http404 — agents included."""
    qs = queryset if queryset is not None else Ticket.objects.all()
    return access_ticket(user, number, queryset=qs.filter(customer=user))


@login_required
def ticket_list(request):
    text = request.GET.get("q", "")[:200]
    tickets = cabinet_tickets(user=request.user, text=text)
    context = {
        "q": text,
        "open_tickets": Paginator(tickets.filter(status__in=ACTIVE_STATUSES), 25).get_page(
            request.GET.get("page")
        ),
        "closed_tickets": Paginator(tickets.exclude(status__in=ACTIVE_STATUSES), 25).get_page(
            request.GET.get("closed_page")
        ),
    }
    return render(request, "tickets/customer/list.html", context)


@login_required
def ticket_new(request):
    form = NewTicketForm(request.POST or None, request.FILES or None, customer=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                customer=request.user,
                department=form.department,
                subject=data["subject"],
                body_text=data["body"],
                product=data["product"],
                fields=form.structured_fields(),
                files=data["attachments"],
                channel=Channel.WEB,
            )
        except TicketError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(
                request, _("Thank you! Your request %(ref)s is filed.") % {"ref": ticket.reference}
            )
            return redirect("ticket_detail", ticket.number)
    return render(request, "tickets/customer/new.html", {"form": form})


@login_required
def ticket_detail(request, number: int):
    try:
        ticket = own_ticket(
            request.user, number, Ticket.objects.select_related("department", "product", "merged_into")
        )
    except Http404:
        if is_agent(request.user):  # a link from a customer mail opened by staff: show the agent page
            return redirect("agent_ticket", number)
        raise
    mark_ticket_seen(user=request.user, ticket=ticket)
    return _render_ticket(request, ticket, ReplyForm())


def _render_ticket(request, ticket: Ticket, reply_form: ReplyForm, status: int = 200):
    items = conversation(ticket, include_internal=False)
    context = {
        "ticket": ticket,
        "items": items,
        "reply_form": reply_form,
        "rating_form": RatingForm(),
        "can_reply": ticket.merged_into_id is None,
        "can_close": ticket.status in ACTIVE_STATUSES and ticket.merged_into_id is None,
        "can_reopen": ticket.status in DONE_STATUSES and ticket.merged_into_id is None,
    }
    return render(request, "tickets/customer/ticket.html", context, status=status)


@login_required
@require_POST
def ticket_reply(request, number: int):
    ticket = own_ticket(request.user, number)
    form = ReplyForm(request.POST, request.FILES)
    if ticket.merged_into_id is None and form.is_valid():
        was_done = ticket.status in DONE_STATUSES
        try:
            message = services.ticket_customer_message(
                ticket=ticket,
                author=request.user,
                body_text=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
                channel=Channel.WEB,
            )
        except TicketError as exc:
            form.add_error(None, str(exc.message))
        else:
            note = (
                _("Your message is added and the request is open again.")
                if was_done
                else _("Your message is added.")
            )
            messages.success(request, note)
            return redirect(f"{ticket_url(ticket)}#m{message.pk}")
    return _render_ticket(request, ticket, form, status=400)


def ticket_url(ticket: Ticket) -> str:
    return reverse("ticket_detail", args=[ticket.number])


@login_required
@require_POST
def ticket_close(request, number: int):
    ticket = own_ticket(request.user, number)
    if ticket.status in ACTIVE_STATUSES:
        services.ticket_close(ticket=ticket, actor=request.user)
        messages.success(request, _("The request is closed. Thank you! Reply any time to open it again."))
    return redirect("ticket_detail", ticket.number)


@login_required
@require_POST
def ticket_reopen(request, number: int):
    ticket = own_ticket(request.user, number)
    if ticket.status in DONE_STATUSES and ticket.merged_into_id is None:
        services.ticket_reopen(ticket=ticket, actor=request.user)
        messages.success(request, _("The request is open again. Please tell us what is still wrong."))
    return redirect("ticket_detail", ticket.number)


@login_required
@require_POST
def rate_reply(request, number: int, message_pk: int):
    ticket = own_ticket(request.user, number)
    message = get_object_or_404(Message, pk=message_pk, ticket=ticket, kind=Message.Kind.REPLY)
    form = RatingForm(request.POST)
    if form.is_valid():
        services.reply_rate(
            message=message,
            customer=request.user,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, _("Thank you for your rating!"))
    else:
        messages.error(request, _("Please choose from 1 to 5 stars."))
    return redirect(f"{ticket_url(ticket)}#m{message.pk}")

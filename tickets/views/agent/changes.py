"""Changes to one ticket from its side panel: assignment, status, priority, details, transfer.
Each parses one form, calls one service and redirects back (htmx: returns the panel)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from departments.permissions import visible_tickets

from ... import services
from ...exceptions import TicketError
from ...forms import (
    AssignForm,
    DetailsForm,
    PriorityForm,
    StatusForm,
    TransferForm,
)
from .common import agent_required, agent_ticket, ticket_url
from .ticket import meta_forms, render_ticket


def _meta_response(request, ticket, error: str = ""):
    if error:
        messages.error(request, error)
    if request.htmx:
        ticket = agent_ticket(request, ticket.number)
        return render(
            request, "tickets/agent/_meta.html", {"ticket": ticket, **meta_forms(ticket), "error": error}
        )
    return redirect(ticket_url(ticket))


def _run(call) -> str:
    """Run a service call; a refused change comes back as the message to show."""
    try:
        call()
    except TicketError as exc:
        return str(exc.message)
    return ""


@agent_required
@require_POST
def take(request, number: int):
    ticket = agent_ticket(request, number)
    error = _run(
        lambda: services.ticket_assign(ticket=ticket, actor=request.user, assignee=request.user),
    )
    return _meta_response(request, ticket, error)


@agent_required
@require_POST
def assign(request, number: int):
    ticket = agent_ticket(request, number)
    form = AssignForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return _meta_response(request, ticket, _("Choose an agent of this department."))
    assignee = form.cleaned_data["assignee"]
    error = _run(lambda: services.ticket_assign(ticket=ticket, actor=request.user, assignee=assignee))
    return _meta_response(request, ticket, error)


@agent_required
@require_POST
def set_status(request, number: int):
    ticket = agent_ticket(request, number)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _meta_response(request, ticket, _("Choose a status."))
    status = form.cleaned_data["status"]
    error = _run(lambda: services.ticket_set_status(ticket=ticket, actor=request.user, status=status))
    return _meta_response(request, ticket, error)


@agent_required
@require_POST
def set_priority(request, number: int):
    ticket = agent_ticket(request, number)
    form = PriorityForm(request.POST)
    if not form.is_valid():
        return _meta_response(request, ticket, _("Choose a priority."))
    priority = form.cleaned_data["priority"]
    error = _run(
        lambda: services.ticket_set_priority(ticket=ticket, actor=request.user, priority=priority),
    )
    return _meta_response(request, ticket, error)


@agent_required
@require_POST
def edit_details(request, number: int):
    ticket = agent_ticket(request, number)
    form = DetailsForm(request.POST)
    if not form.is_valid():
        return _meta_response(request, ticket, _("The subject cannot be empty."))
    data = form.cleaned_data

    def change():
        services.ticket_rename(ticket=ticket, actor=request.user, subject=data["subject"])
        services.ticket_set_product(ticket=ticket, actor=request.user, product=data["product"])

    return _meta_response(request, ticket, _run(change))


@agent_required
@require_POST
def transfer(request, number: int):
    ticket = agent_ticket(request, number)
    form = TransferForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return render_ticket(request, ticket, transfer_form=form, status=400)
    department = form.cleaned_data["department"]
    try:
        services.ticket_transfer(
            ticket=ticket, actor=request.user, department=department, reason=form.cleaned_data["reason"]
        )
    except TicketError as exc:
        form.add_error(None, exc.message)
        return render_ticket(request, ticket, transfer_form=form, status=400)
    messages.success(
        request,
        _("Ticket %(ref)s was transferred to %(department)s.")
        % {"ref": ticket.reference, "department": department},
    )
    # The agent may not work the new department: he goes back to his queue, not to a 404.
    if visible_tickets(request.user).filter(pk=ticket.pk).exists():
        return redirect(ticket_url(ticket))
    return redirect(reverse("agent_queue"))

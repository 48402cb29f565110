"""Splitting a message into a new ticket, merging two tickets and undoing a merge."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from departments.permissions import visible_tickets

from ... import services
from ...agent_selectors import merge_candidates
from ...exceptions import TicketError
from ...forms import (
    MergeForm,
    SplitForm,
)
from ...models import TicketEvent
from .common import agent_required, agent_ticket, ticket_url


@agent_required
def split(request, number: int, message_id: int):
    ticket = agent_ticket(request, number)
    message = ticket.messages.exclude(kind="event").filter(pk=message_id).select_related("author").first()
    if message is None:
        raise Http404
    form = SplitForm(
        request.POST or None, initial={"department": ticket.department_id, "subject": ticket.subject}
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = services.ticket_split(
                ticket=ticket, message=message, actor=request.user, **form.cleaned_data
            )
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Ticket %(ref)s was created from the message.") % {"ref": new.reference}
            )
            visible = visible_tickets(request.user).filter(pk=new.pk).exists()
            return redirect(ticket_url(new if visible else ticket))
    return render(request, "tickets/agent/split.html", {"ticket": ticket, "message": message, "form": form})


@agent_required
def merge(request, number: int):
    ticket = agent_ticket(request, number)
    form = MergeForm(request.POST or None, candidates=merge_candidates(user=request.user, ticket=ticket))
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        try:
            services.ticket_merge(source=ticket, target=target, actor=request.user)
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Ticket %(source)s was merged into %(target)s.")
                % {"source": ticket.reference, "target": target.reference},
            )
            return redirect(ticket_url(target))
    return render(request, "tickets/agent/merge.html", {"ticket": ticket, "form": form})


@agent_required
@require_POST
def unmerge(request, number: int, event_id: int):
    ticket = agent_ticket(request, number)
    event = ticket.events.filter(pk=event_id, kind=TicketEvent.Kind.MERGED).first()
    # Undoing hands the source ticket back: the agent must be allowed to see it too.
    if event is None or not visible_tickets(request.user).filter(pk=event.data.get("source")).exists():
        raise Http404
    try:
        source = services.ticket_unmerge(event=event, actor=request.user)
    except TicketError as exc:
        messages.error(request, exc.message)
        return redirect(ticket_url(ticket))
    messages.success(
        request, _("The merge was undone: %(ref)s is a ticket of its own again.") % {"ref": source.reference}
    )
    return redirect(ticket_url(ticket))

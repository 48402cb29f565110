"""Posting replies and internal notes, with the collision check. htmx gets fragments back."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ... import services
from ...agent_selectors import newer_public_messages
from ...canned import canned_for_ticket
from ...exceptions import TicketError
from ...forms import (
    NoteForm,
    ReplyForm,
    incoming_files,
)
from .common import agent_required, agent_ticket, ticket_url
from .ticket import render_ticket


def _conversation_update(request, ticket, message, form_name: str, form):
    """htmx: the emptied form in place, the new message appended to the conversation (out of band)."""
    return render(
        request,
        "tickets/agent/_posted.html",
        {
            "ticket": ticket,
            "item": message,
            "form_name": form_name,
            "form": form,
            "canned": list(canned_for_ticket(user=request.user, ticket=ticket)),
        },
    )


def _form_again(request, ticket, form_name: str, form, *, status: int, collisions=()):
    """Show a reply or note form again (errors, collision). htmx swaps only 2xx answers, so it gets
    the form fragment with 200; a plain POST gets the whole page with the real status."""
    if not request.htmx:
        return render_ticket(
            request, ticket, status=status, collisions=list(collisions), **{f"{form_name}_form": form}
        )
    context = {
        "ticket": ticket,
        "form": form,
        "collisions": list(collisions),
        "canned": list(canned_for_ticket(user=request.user, ticket=ticket)),
    }
    return render(request, f"tickets/agent/_{form_name}_form.html", context)


@agent_required
@require_POST
def reply(request, number: int):
    ticket = agent_ticket(request, number)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_again(request, ticket, "reply", form, status=400)
    data = form.cleaned_data
    # Forms from our page always carry last_seen; without it there is nothing to compare against.
    check = not data["confirm"] and data["last_seen"] is not None
    newer = newer_public_messages(ticket=ticket, after=data["last_seen"], user=request.user) if check else []
    if newer:
        return _collision(request, ticket, newer)
    try:
        message = services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body_text=data["body"],
            status=data["status"],
            cc=data["cc"],
            files=incoming_files(data["files"]),
        )
    except TicketError as exc:
        form.add_error(None, exc.message)
        return _form_again(request, ticket, "reply", form, status=400)
    if request.htmx:
        fresh = ReplyForm(initial={"last_seen": message.pk, "status": data["status"]})
        return _conversation_update(request, ticket, message, "reply", fresh)
    messages.success(request, _("Your reply was sent."))
    return redirect(ticket_url(ticket, f"m{message.pk}"))


def _collision(request, ticket, newer):
    """Show what arrived meanwhile; the re-shown form is marked confirmed, so sending it again sends."""
    data = request.POST.copy()
    data["confirm"] = "1"
    data["last_seen"] = str(max(m.pk for m in newer))
    form = ReplyForm(data)
    return _form_again(request, ticket, "reply", form, status=409, collisions=newer)


@agent_required
@require_POST
def note(request, number: int):
    ticket = agent_ticket(request, number)
    form = NoteForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_again(request, ticket, "note", form, status=400)
    try:
        message = services.ticket_note(
            ticket=ticket,
            author=request.user,
            body_text=form.cleaned_data["body"],
            files=incoming_files(form.cleaned_data["files"]),
        )
    except TicketError as exc:
        form.add_error(None, exc.message)
        return _form_again(request, ticket, "note", form, status=400)
    if request.htmx:
        return _conversation_update(request, ticket, message, "note", NoteForm())
    messages.success(request, _("Note added."))
    return redirect(ticket_url(ticket, f"m{message.pk}"))

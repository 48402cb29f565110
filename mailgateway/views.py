from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from departments.permissions import access_ticket, can_see_internal

from . import services
from .models import InboundEmail


def eml_response(row: InboundEmail) -> HttpResponse:
    # Served as a download, never inline: the bytes are whatever a stranger sent us.
    response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def message_original(request, number: int, message_pk: int):
    """'Show original': the stored raw mail of one message of a ticket the user may see."""
    ticket = access_ticket(request.user, number)
    row = (
        InboundEmail.objects.filter(message_id=message_pk, message__ticket=ticket)
        .only("raw", "pk", "message__kind")
        .first()
    )
    if row is None or (row.message.kind == row.message.Kind.NOTE and not can_see_internal(request.user, ticket)):
        raise Http404
    return eml_response(row)


def _held_action(request, number: int, inbound_pk: int, service, done_message):
    ticket = access_ticket(request.user, number)
    if not can_see_internal(request.user, ticket):
        raise Http404
    if not InboundEmail.objects.filter(pk=inbound_pk, ticket=ticket, status=InboundEmail.Status.HELD).exists():
        raise Http404
    service(inbound_pk, actor=request.user)
    messages.success(request, done_message)
    return redirect("agent_ticket", number=ticket.number)


@login_required
@require_POST
def held_accept(request, number: int, inbound_pk: int):
    """An agent of the ticket's department accepts mail held from an unknown sender."""
    return _held_action(request, number, inbound_pk, services.accept_held, _("The message was added to the ticket."))


@login_required
@require_POST
def held_reject(request, number: int, inbound_pk: int):
    return _held_action(request, number, inbound_pk, services.reject_held, _("The message became a new ticket."))

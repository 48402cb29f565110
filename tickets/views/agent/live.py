"""Cheap endpoints the pages poll: new activity, presence (collision warning)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from ... import presence
from ...agent_selectors import latest_activity
from .common import agent_required, agent_ticket


@agent_required
def poll(request):
    """{"latest": <id of the newest relevant message>, ...}; the page compares it with what it saw."""
    number = request.GET.get("ticket", "")
    data = latest_activity(user=request.user, ticket_number=int(number) if number.isdigit() else None)
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


@agent_required
@require_POST
def heartbeat(request, number: int):
    """Record that the agent is viewing (or replying to) the ticket; answer with who else is there."""
    ticket = agent_ticket(request, number)
    mode = request.POST.get("mode", presence.VIEWING)
    if mode == "leave":
        presence.leave(ticket.pk, request.user)
    else:
        presence.heartbeat(ticket.pk, request.user, mode)
    return render(
        request, "tickets/agent/_presence.html", {"present": presence.others(ticket.pk, request.user)}
    )

"""Canned responses: inserting one into the reply box, and managing them (managers: their departments'
shared ones; every agent: his personal ones)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ...canned import canned_editable, canned_for_ticket, canned_visible, render_canned
from ...forms import CannedResponseForm
from .common import agent_required, agent_ticket


@agent_required
def insert(request, number: int, pk: int):
    """The response's text with placeholders filled for this ticket (the page inserts it, editable)."""
    ticket = agent_ticket(request, number)
    canned = canned_for_ticket(user=request.user, ticket=ticket).filter(pk=pk).first()
    if canned is None:
        raise Http404
    text = render_canned(canned.body, ticket=ticket, agent=request.user)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@agent_required
def canned_list(request):
    editable = set(canned_editable(request.user).values_list("pk", flat=True))
    items = list(canned_visible(request.user))
    for item in items:
        item.editable = item.pk in editable
    return render(request, "tickets/agent/canned_list.html", {"items": items})


@agent_required
def canned_edit(request, pk: int | None = None):
    instance = None
    if pk is not None:
        instance = canned_editable(request.user).filter(pk=pk).first()
        if instance is None:
            raise Http404
    form = CannedResponseForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Canned response saved."))
        return redirect("agent_canned_list")
    return render(request, "tickets/agent/canned_form.html", {"form": form, "instance": instance})


@agent_required
def canned_delete(request, pk: int):
    instance = canned_editable(request.user).filter(pk=pk).first()
    if instance is None:
        raise Http404
    if request.method == "POST":
        instance.delete()
        messages.success(request, _("Canned response deleted."))
        return redirect("agent_canned_list")
    return render(request, "tickets/agent/canned_delete.html", {"instance": instance})

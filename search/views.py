"""Search page, reference jump, and workspaces (saved searches). Agents only: customers search their own
tickets in the cabinet (tickets.views.customer.ticket_list), where /search/ sends them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from departments.permissions import is_agent, is_manager
from tickets.feeds import feed_token
from tickets.views.agent.common import agent_required

from . import services
from .filters import clean_params, parse_filters
from .forms import SaveWorkspaceForm, SearchForm, WorkspaceForm
from .selectors import (
    CappedResults,
    agents_for_filters,
    search_matches,
    ticket_by_reference,
    workspace_for,
)
from .snippets import snippets

PER_PAGE = 25


@login_required
def search(request):
    user = request.user
    text = request.GET.get("q", "")
    if not is_agent(user):
        return redirect(f"{reverse('ticket_list')}?{urlencode({'q': text[:200]})}")
    ticket = ticket_by_reference(user=user, text=text) if text else None
    if ticket is not None:
        return redirect("agent_ticket", ticket.number)
    workspace = _workspace_param(request)
    return _results(request, clean_params(request.GET), workspace=workspace, from_workspace=False)


def _workspace_param(request):
    """The workspace the agent came from (?workspace=pk), if he may see it."""
    try:
        return workspace_for(request.user, int(request.GET["workspace"]))
    except (KeyError, ValueError, Http404):  # missing, malformed or invisible: just no workspace
        return None


def _feed_url(request, workspace) -> str:
    """The workspace's Atom feed (api.feeds.WorkspaceAtomFeed) under the agent's secret feed token."""
    return request.build_absolute_uri(reverse("workspace_atom", args=[feed_token(request.user), workspace.pk]))


def _can_edit(user, workspace) -> bool:
    return workspace.owner_id == user.pk or bool(
        workspace.department_id and is_manager(user, workspace.department)
    )


def _results(request, params: dict, *, workspace, from_workspace: bool):
    user = request.user
    filters = parse_filters(params)
    results = CappedResults(search_matches(user=user, filters=filters))
    page = Paginator(results, PER_PAGE).get_page(request.GET.get("page"))
    found = snippets(list(page.object_list), filters.terms, include_notes=True)
    for ticket in page.object_list:
        ticket.snippet = found.get(ticket.pk)
    agents = agents_for_filters(user)
    form_params = {**params, **({"workspace": str(workspace.pk)} if workspace else {})}
    context = {
        "form": SearchForm(params or None, user=user, agents=agents),
        "params": params,
        "filters": filters,
        "page": page,
        "capped": results.capped,
        "page_query": urlencode(form_params),
        "workspace": workspace,
        "can_edit": bool(workspace and _can_edit(user, workspace)),
        "differs": bool(workspace and params != workspace.filters),
        "from_workspace": from_workspace,
        "feed_url": _feed_url(request, workspace) if workspace else "",
        "save_form": SaveWorkspaceForm(),
        "searched": bool(params),
        "has_filters": bool(set(params) - {"q", "sort", "subject_only"}),
    }
    return render(request, "search/results.html", context)


@agent_required
def workspace_open(request, pk: int):
    workspace = workspace_for(request.user, pk)
    return _results(request, workspace.filters, workspace=workspace, from_workspace=True)


@agent_required
@require_POST
def workspace_save(request):
    form = SaveWorkspaceForm(request.POST)
    params = clean_params(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the workspace a name."))
        return redirect(f"{reverse('search')}?{urlencode(params)}")
    workspace = services.workspace_create(owner=request.user, name=form.cleaned_data["name"], filters=params)
    messages.success(request, _("Workspace “%(name)s” saved.") % {"name": workspace.name})
    return redirect("workspace", workspace.pk)


@agent_required
@require_POST
def workspace_replace(request, pk: int):
    workspace = workspace_for(request.user, pk, edit=True)
    services.workspace_replace_filters(workspace=workspace, filters=clean_params(request.POST))
    messages.success(request, _("The workspace now uses this search."))
    return redirect("workspace", workspace.pk)


@agent_required
def workspace_edit(request, pk: int):
    workspace = workspace_for(request.user, pk, edit=True)
    form = WorkspaceForm(request.POST or None, instance=workspace, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.workspace_update(
                workspace=workspace, actor=request.user, name=data["name"], department=data["department"],
                is_default=data.get("is_default", workspace.is_default),
            )
        except services.WorkspaceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Workspace saved."))
            return redirect("workspace", workspace.pk)
    context = {"form": form, "workspace": workspace, "feed_url": _feed_url(request, workspace),
               "profile_url": reverse("profile")}
    return render(request, "search/workspace_form.html", context)


@agent_required
def workspace_delete(request, pk: int):
    workspace = workspace_for(request.user, pk, edit=True)
    if request.method == "POST":
        services.workspace_delete(workspace=workspace)
        messages.success(request, _("Workspace deleted."))
        return redirect("agent_queue")
    return render(request, "search/workspace_delete.html", {"workspace": workspace})

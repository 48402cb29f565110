from django.contrib import messages
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from departments.permissions import visible_tickets

from ... import services
from ...agent_selectors import (
    DEFAULT_SORT,
    QUEUE_LABELS,
    SORTS,
    agent_departments,
    bulk_menus,
    cached_queue_counts,
    manages_any,
    queue_tickets,
    total_counts,
)
from ...choices import Status
from ...exceptions import TicketError
from ...feeds import feed_url
from ...forms import BulkForm
from ...queue_html import ROW_FIELDS, options, queue_rows
from .common import agent_required, back_to

PER_PAGE = 50
COLUMNS = [
    ("reference", gettext_lazy("Ref.")),
    ("subject", gettext_lazy("Subject")),
    ("customer", gettext_lazy("Customer")),
    ("status", gettext_lazy("Status")),
    ("priority", gettext_lazy("Priority")),
    ("assignee", gettext_lazy("Assignee")),
    ("activity", gettext_lazy("Last activity")),
    ("waiting", gettext_lazy("Waiting")),
]


@agent_required
def queue(request, department_slug: str | None = None):
    user = request.user
    departments = agent_departments(user)  # read on every request: what the agent may see
    department = _visible_department(departments, department_slug)
    name = request.GET.get("queue", "active")
    name = name if name in QUEUE_LABELS else "active"
    sort = request.GET.get("sort", DEFAULT_SORT)
    sort = sort if sort.lstrip("-") in SORTS else DEFAULT_SORT
    within = [d.pk for d in departments]
    # Counts per department, from the page cache (tickets.page_cache: recomputed after any change to a
    # department's tickets, else at most a few seconds old); the rows below are always read afresh.
    per_department = cached_queue_counts(user, within)
    for d in departments:
        d.active_count = per_department[d.pk]["active"]
    counts = total_counts(per_department, [department.pk] if department is not None else within)
    tickets = queue_tickets(user=user, department=department, queue=name, sort=sort, within=within)
    paginator = QueuePaginator(tickets.values_list(*ROW_FIELDS), PER_PAGE)
    paginator.count = counts[name]  # the queue's count from above: no second COUNT query
    page = paginator.get_page(request.GET.get("page"))
    counts[name] = paginator.count  # exact when this page reached the end of the queue
    base = request.path
    context = {
        "departments": departments,
        "department": department,
        "queue": name,
        "queue_label": QUEUE_LABELS[name],
        "queues": [
            (q, label, counts[q], f"{base}?{urlencode({'queue': q})}") for q, label in QUEUE_LABELS.items()
        ],
        "columns": _columns(base, name, sort),
        "sort": sort,
        "page": page,
        "rows": queue_rows(page.object_list, show_department=department is None),
        "page_query": urlencode({"queue": name, "sort": sort}),
        "bulk": {name: options(pairs) for name, pairs in bulk_menus(user, within=within).items()},
        "bulk_actions": options(BulkForm.ACTIONS),
        "statuses": options(Status.choices),
        "feed_url": feed_url(request, user, department=department, queue=name),
        "manages_departments": manages_any(user, departments),  # for the navigation, instead of a query
    }
    template = (
        "tickets/agent/_workspace.html"
        if request.htmx and not request.htmx.boosted
        else "tickets/agent/queue.html"
    )
    return render(request, template, context)


class QueuePaginator(Paginator):
    """Pages over a count that may be a few seconds old (the page cache's): a page reads one row more than
    it shows, so the "next" link and the last page follow the rows themselves, and a page that reaches the
    end of the queue corrects the count. A page number beyond the count is tried too; past the real end
    the queue is counted (one query) and its last page shown."""

    def validate_number(self, number):
        """Any page number from 1: page() finds out where the queue ends."""
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:  # past the end: the count was ahead of the rows
            self._set_count(self.object_list.count())
            number = self.num_pages
            bottom = (number - 1) * self.per_page
            rows = list(self.object_list[bottom : bottom + self.per_page])
            return self._get_page(rows, number, self)
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if more:
            self._set_count(max(self.count, bottom + len(rows) + 1))
        else:
            self._set_count(bottom + len(rows))
        return self._get_page(rows, number, self)

    def _set_count(self, count: int) -> None:
        if count != self.count:
            self.count = count
            self.__dict__.pop("num_pages", None)


def _visible_department(departments, slug: str | None):
    """The department of the URL among the agent's own (already loaded with their counts), else 404."""
    if not slug:
        return None
    for department in departments:
        if department.slug == slug:
            return department
    raise Http404


# A first click sorts the way agents usually want it: names A→Z, highest priority and latest activity
# first, longest waiting (the earliest waiting_since) first. The next click reverses.
DESCENDING_FIRST = {"priority", "activity"}


def _columns(base: str, queue_name: str, sort: str) -> list[dict]:
    """Header links with the sort they switch to, and aria-sort for the current one."""
    columns = []
    for key, label in COLUMNS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        if current:
            target = key if descending else f"-{key}"
        else:
            target = f"-{key}" if key in DESCENDING_FIRST else key
        columns.append(
            {
                "label": label,
                "url": f"{base}?{urlencode({'queue': queue_name, 'sort': target})}",
                "aria_sort": ("descending" if descending else "ascending") if current else "none",
            }
        )
    return columns


@agent_required
@require_POST
def bulk(request):
    user = request.user
    form = BulkForm(request.POST, tickets=visible_tickets(user), user=user)
    if not form.is_valid():
        messages.error(request, _("Nothing was changed: choose tickets and a complete action."))
        return back_to(request, reverse("agent_queue"))
    done, failed = 0, 0
    for ticket in form.cleaned_data["tickets"]:
        try:
            _apply(form.cleaned_data, ticket, user)
            done += 1
        except TicketError:
            failed += 1
    messages.success(request, ngettext("%(n)d ticket changed.", "%(n)d tickets changed.", done) % {"n": done})
    if failed:
        messages.error(
            request,
            ngettext("%(n)d ticket could not be changed.", "%(n)d tickets could not be changed.", failed)
            % {"n": failed},
        )
    return back_to(request, reverse("agent_queue"))


def _apply(data: dict, ticket, user) -> None:
    action = data["action"]
    if action == "assign_me":
        services.ticket_assign(ticket=ticket, actor=user, assignee=user)
    elif action == "assign":
        services.ticket_assign(ticket=ticket, actor=user, assignee=data["assignee"])
    elif action == "unassign":
        services.ticket_assign(ticket=ticket, actor=user, assignee=None)
    elif action == "status":
        services.ticket_set_status(ticket=ticket, actor=user, status=data["status"])
    elif action == "transfer":
        services.ticket_transfer(
            ticket=ticket, actor=user, department=data["department"], reason=data["reason"]
        )

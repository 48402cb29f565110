"""HTML of the queue table's rows, written in Python (like tickets.timeline_html for the ticket page).

A queue page shows 50 rows of nine cells; through the template engine they were ~1,000 variable
lookups, escapes and localizations per page, about a third of its CPU. The rows are read as plain
tuples (no model instances) and each becomes one f-string; every value is escaped with `escape`. The
markup is the one tickets/agent/_workspace.html had, the strings the same msgids.
"""

from __future__ import annotations

from html import escape as _escape

from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.timezone import localtime
from django.utils.translation import gettext

from .choices import Priority, Status
from .timeline_html import formatted_date

# What a row shows (and sorts on), in this order: the ticket's JSON details, SLA clocks and most user
# columns are never read.
ROW_FIELDS = (
    "number", "subject", "status", "priority", "updated_at", "waiting_since", "department__name",
    "customer__display_name", "customer__email", "assignee_id", "assignee__display_name",
    "assignee__email", "assignee__is_active",
)  # fmt: skip


def escape(value) -> str:
    """django.utils.html.escape without the SafeString wrapper (the row is marked safe as a whole)."""
    return _escape(str(value))


def _name(display_name: str | None, email: str | None) -> str:
    """accounts.User.name from its two columns."""
    return display_name or (email or "").split("@", 1)[0]


def queue_rows(values, *, show_department: bool) -> list[SafeString]:
    """One <tr> per row of `values` (tuples of ROW_FIELDS); labels translated once per page."""
    statuses = {value: escape(str(label)) for value, label in Status.choices}
    priorities = {value: escape(str(label)) for value, label in Priority.choices}
    select = gettext("Select %(ref)s")
    former = f' <span class="muted former">({escape(gettext("former staff"))})</span>'
    prefix = reverse("agent_ticket", args=[0])[: -len("0/")]  # reverse() once, not per row
    rows = []
    for (number, subject, status, priority, updated_at, waiting_since, department, customer_name,
         customer_email, assignee_id, assignee_name, assignee_email, assignee_active) in values:  # fmt: skip
        url = escape(f"{prefix}{number}/")
        ref = escape(f"#{number}")
        updated = localtime(updated_at)
        dept = f' <span class="muted">{escape(department)}</span>' if show_department else ""
        if assignee_id is None:
            assignee = "—"
        else:
            assignee = escape(_name(assignee_name, assignee_email)) + ("" if assignee_active else former)
        if waiting_since:
            waiting = (
                f'<time datetime="{localtime(waiting_since).isoformat()}">{escape(timesince(waiting_since))}</time>'
            )
        else:
            waiting = "—"
        rows.append(SafeString(
            f'<tr class="queue-row priority-{escape(priority)}" data-href="{url}">\n'
            f'          <td><input type="checkbox" name="tickets" value="{number}" '
            f'aria-label="{escape(select % {"ref": f"#{number}"})}"></td>\n'
            f'          <td><a href="{url}">{ref}</a></td>\n'
            f'          <td><a href="{url}">{escape(subject)}</a>{dept}</td>\n'
            f"          <td>{escape(_name(customer_name, customer_email))}</td>\n"
            f'          <td><span class="badge status-{escape(status)}">{statuses.get(status) or escape(status)}</span></td>\n'
            f"          <td>{priorities.get(priority) or escape(priority)}</td>\n"
            f"          <td>{assignee}</td>\n"
            f'          <td><time datetime="{updated.isoformat()}">'
            f'{escape(formatted_date(updated, "SHORT_DATETIME_FORMAT"))}</time></td>\n'
            f"          <td>{waiting}</td>\n"
            f"        </tr>"
        ))  # fmt: skip
    return rows


def options(pairs, selected=None) -> SafeString:
    """<option> elements of a menu of (value, label) pairs; with `selected`, the option whose value reads
    the same (as the templates compared with `|stringformat:"s"`) is marked selected."""
    chosen = None if selected is None else str(selected)
    return SafeString("".join(
        f'<option value="{escape(v)}"{" selected" if str(v) == chosen else ""}>{escape(label)}</option>'
        for v, label in pairs
    ))  # fmt: skip

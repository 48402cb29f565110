"""Report figures, aggregated in SQL from the columns the ticket services store when things happen
(tickets.services.report_times). A report costs a fixed number of queries whatever the period or size.

Attribution: ticket figures (created, resolved, first response, resolution, backlog) count for the
department that holds the ticket; replies, notes, reply wait times and ratings for the department the
ticket was in when the reply was written (Message.department), so a transferred ticket's earlier answers
stay with the department that gave them. Agents are the reply authors, first responders and resolvers:
departed (inactive) agents keep their rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from accounts.models import User
from departments.models import Department, Membership
from departments.permissions import is_agent, managed_departments
from tickets.choices import DONE_STATUSES, Status
from tickets.models import Message, Rating, Ticket, TicketEvent

from .aggregates import ALL_STATS, grouped_stats
from .periods import Period

# Reply wait distribution buckets (business seconds, upper bounds); the last is open-ended.
HISTOGRAM_BOUNDS = [3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600]
REOPENED = Q(kind=TicketEvent.Kind.REOPENED) | Q(
    kind=TicketEvent.Kind.STATUS,
    data__old__in=[str(s) for s in DONE_STATUSES],
    data__new__in=[Status.NEW, Status.OPEN, Status.PENDING],
)


def reportable_departments(user):
    """Departments whose reports the user may see: managers their departments, admins all."""
    return managed_departments(user).order_by("position", "name")


def can_see_own_report(user) -> bool:
    return is_agent(user)


@dataclass
class Report:
    period: Period
    departments: list[Department]
    totals: dict = field(default_factory=dict)
    by_department: list[dict] = field(default_factory=list)
    agents: list[dict] = field(default_factory=list)
    daily: list[dict] = field(default_factory=list)
    ratings: dict[int, int] = field(default_factory=dict)
    histogram: list[int] = field(default_factory=list)


def _in(period: Period, column: str) -> Q:
    return Q(**{f"{column}__gte": period.since, f"{column}__lt": period.until})


def _fill(rows: dict, key, values: dict) -> None:
    rows.setdefault(key, {}).update(values)


def ticket_figures(tickets, period: Period, group: str | None) -> dict:
    """Per group: created, resolved and first-response/resolution statistics (wall and business)."""
    rows: dict = {}
    if group != "agent":  # tickets are created by customers: a department figure only
        created = tickets.filter(_in(period, "created_at")).order_by()
        if group is None:
            rows[None] = {"created": created.count()}
        else:
            for row in created.values(group).annotate(n=Count("created_at")):
                _fill(rows, row[group], {"created": row["n"]})
    per_agent = group == "agent"  # agents' rows show averages and the first-response median only
    first = grouped_stats(
        tickets.filter(_in(period, "first_response_at")),
        _alias(group, "first_responder_id"),
        {"frt_b": "first_response_business_seconds"} if per_agent else
        {"frt": "first_response_seconds", "frt_b": "first_response_business_seconds"},
        stats=("avg", "median") if per_agent else ALL_STATS,
    )
    resolved = grouped_stats(
        tickets.filter(_in(period, "resolved_at")),
        _alias(group, "resolved_by_id"),
        {"res_b": "resolution_business_seconds"} if per_agent else
        {"res": "resolution_seconds", "res_b": "resolution_business_seconds"},
        # resolved counts every ticket that left the backlog (a merged duplicate too, which has no
        # resolution time), so it agrees with the daily series and the backlog.
        extra={"resolved": Count("resolved_at")},
        stats=("avg",) if per_agent else ALL_STATS,
    )
    for key, values in first.items():
        _fill(rows, key, values)
    for key, values in resolved.items():
        _fill(rows, key, values)
    return rows


def _alias(group: str | None, agent_column: str) -> str | None:
    """The grouping column of a ticket query: the department, or the agent the figure belongs to."""
    if group == "agent":
        return agent_column
    return group


def message_figures(messages, group: str | None, *, per_ticket: bool = True) -> dict:
    """Per group: replies, tickets answered, notes, reply wait statistics and the wait histogram.

    Counts use created_at, not the id, so PostgreSQL can answer from message_report_idx alone (an
    index-only scan: every column read is in the index); the same holds for the ticket and rating
    queries and their report indexes."""
    buckets = {}
    lower = 0
    for i, upper in enumerate([*HISTOGRAM_BOUNDS, None]):
        cond = Q(response_business_seconds__gte=lower)
        if upper is not None:
            cond &= Q(response_business_seconds__lt=upper)
        buckets[f"h{i}"] = Count("created_at", filter=cond)
        lower = upper
    extra = {
        "replies": Count("created_at", filter=Q(kind=Message.Kind.REPLY)),
        "notes": Count("created_at", filter=Q(kind=Message.Kind.NOTE)),
        **buckets,
    }
    if per_ticket:  # a DISTINCT count sorts every row: only where it is shown (agents)
        extra["tickets_replied"] = Count("ticket_id", filter=Q(kind=Message.Kind.REPLY), distinct=True)
    # Reply waits are shown in business time (the wall-clock column stays stored): average and median.
    return grouped_stats(messages, group, {"wait_b": "response_business_seconds"}, extra, stats=("avg", "median"))


def rating_figures(ratings) -> dict:
    """One query grouped by department, author and score: {"department": {id: row}, "agent": {id: row},
    "total": row, "distribution": {score: n}} with rating_count and rating_avg in each row."""
    result: dict = {"department": {}, "agent": {}, "total": {}, "distribution": dict.fromkeys(range(1, 6), 0)}
    rows = ratings.order_by().values("department_id", "agent_id", "score").annotate(n=Count("created_at"))
    for row in rows:
        for target in (
            result["department"].setdefault(row["department_id"], {}),
            result["agent"].setdefault(row["agent_id"], {}),
            result["total"],
        ):
            target["rating_count"] = target.get("rating_count", 0) + row["n"]
            target["rating_sum"] = target.get("rating_sum", 0) + row["n"] * row["score"]
        result["distribution"][row["score"]] += row["n"]
    for target in [*result["department"].values(), *result["agent"].values(), result["total"]]:
        if target:
            target["rating_avg"] = target["rating_sum"] / target["rating_count"]
    return result


def event_figures(events) -> dict:
    """One query grouped by department and assignee: {"department": {id: row}, "agent": {id: row},
    "total": row} with breaches (tickets escalated) and reopened (reopenings; departments only)."""
    rows = (
        events.order_by()
        .values("ticket__department_id", "ticket__assignee_id")
        .annotate(
            breaches=Count("ticket_id", filter=Q(kind=TicketEvent.Kind.ESCALATED), distinct=True),
            reopened=Count("pk", filter=REOPENED),
        )
    )
    result: dict = {"department": {}, "agent": {}, "total": {"breaches": 0, "reopened": 0}}
    for row in rows:
        # A ticket has one department and one assignee: distinct tickets per group add up.
        for target in (result["department"].setdefault(row["ticket__department_id"], {}), result["total"]):
            target["breaches"] = target.get("breaches", 0) + row["breaches"]
            target["reopened"] = target.get("reopened", 0) + row["reopened"]
        agent = result["agent"].setdefault(row["ticket__assignee_id"], {})
        agent["breaches"] = agent.get("breaches", 0) + row["breaches"]
    return result


def _merge(*sources: dict) -> dict:
    merged: dict = defaultdict(dict)
    for source in sources:
        for key, values in source.items():
            merged[key].update(values)
    return merged


# --- Department report -----------------------------------------------------------------------------------


def department_report(departments: list[Department], period: Period) -> Report:
    """Figures of these departments over the period: per department, per agent, per day."""
    ids = [d.pk for d in departments]
    tickets = Ticket.objects.filter(department_id__in=ids)
    # Only replies and notes have a department (message_report_idx is partial on it).
    messages = Message.objects.filter(department_id__in=ids).filter(_in(period, "created_at"))
    ratings = Rating.objects.filter(department_id__in=ids).filter(_in(period, "created_at"))
    events = TicketEvent.objects.filter(
        Q(kind=TicketEvent.Kind.ESCALATED) | REOPENED, ticket__department_id__in=ids
    ).filter(_in(period, "created_at"))
    rated, happened = rating_figures(ratings), event_figures(events)

    per_dept = _merge(
        ticket_figures(tickets, period, "department_id"),
        message_figures(messages, "department_id", per_ticket=False),
        rated["department"],
        happened["department"],
    )
    per_agent = _merge(
        ticket_figures(tickets, period, "agent"),
        message_figures(messages, "author_id"),
        rated["agent"],
        happened["agent"],
    )
    if len(ids) == 1:  # one department: its row is the total (saves the same queries without grouping)
        totals = dict(per_dept.get(ids[0], {}))
    else:
        totals = _merge(
            ticket_figures(tickets, period, None),
            message_figures(messages, None, per_ticket=False),
            {None: rated["total"]},
            {None: happened["total"]},
        ).get(None, {})
    distribution = rated["distribution"]
    daily, backlog_now = daily_series(tickets, period)
    totals["backlog"] = backlog_now
    report = Report(period=period, departments=departments, totals=totals, ratings=distribution)
    report.histogram = [totals.get(f"h{i}", 0) for i in range(len(HISTOGRAM_BOUNDS) + 1)]
    report.daily = daily
    report.by_department = [{"department": d, **per_dept.get(d.pk, {})} for d in departments]
    backlog_by_dept = {ids[0]: backlog_now} if len(ids) == 1 else backlog(tickets, period, "department_id")
    for row in report.by_department:
        row["backlog"] = backlog_by_dept.get(row["department"].pk, 0)
    report.agents = agent_rows(per_agent, ids)
    return report


def agent_rows(per_agent: dict, department_ids: list[int]) -> list[dict]:
    """One row per agent with figures in the period, plus current members without any (zeros)."""
    per_agent.pop(None, None)  # unattributed (e.g. resolved by the customer)
    members = Membership.objects.filter(department_id__in=department_ids).values("user_id")
    users = User.objects.filter(Q(pk__in=list(per_agent)) | Q(pk__in=members, is_agent=True)).order_by(
        "display_name", "email"
    )
    return [{"agent": u, **per_agent.get(u.pk, {})} for u in users]


def backlog(tickets, period: Period, group: str) -> dict:
    """Open tickets at the end of the period (tickets created before it and not resolved by then)."""
    rows = (
        tickets.filter(created_at__lt=period.until)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=period.until))
        .order_by()
        .values(group)
        .annotate(n=Count("pk"))
    )
    return {r[group]: r["n"] for r in rows}


def daily_series(tickets, period: Period) -> tuple[list[dict], int]:
    """[{day, created, resolved, backlog}] for every day of the period, and the backlog at its end.

    backlog(end of day) = open at the start of the period + created so far - resolved so far: exact,
    because a ticket resolved in the period was open at its start or created in it."""
    start = (
        tickets.filter(created_at__lt=period.since)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=period.since))
        .count()
    )
    created = _per_day(tickets.filter(_in(period, "created_at")), "created_at")
    resolved = _per_day(tickets.filter(_in(period, "resolved_at")), "resolved_at")
    rows, open_now = [], start
    for day in period.days:
        c, r = created.get(day, 0), resolved.get(day, 0)
        open_now += c - r
        rows.append({"day": day, "created": c, "resolved": r, "backlog": open_now})
    return rows, open_now


def _per_day(qs, column: str) -> dict[date, int]:
    rows = qs.annotate(day=TruncDate(column)).order_by().values("day").annotate(n=Count(column))
    return {r["day"]: r["n"] for r in rows}


# --- An agent's own figures ------------------------------------------------------------------------------


def agent_report(agent: User, period: Period) -> Report:
    """The agent's own figures in the period, per department he worked in and in total."""
    tickets = Ticket.objects.all()
    messages = Message.objects.filter(author=agent, kind__in=(Message.Kind.REPLY, Message.Kind.NOTE)).filter(
        _in(period, "created_at")
    )
    ratings = Rating.objects.filter(agent=agent).filter(_in(period, "created_at"))
    first = grouped_stats(
        tickets.filter(first_responder=agent).filter(_in(period, "first_response_at")),
        "department_id",
        {"frt": "first_response_seconds", "frt_b": "first_response_business_seconds"},
    )
    resolved = grouped_stats(
        tickets.filter(resolved_by=agent).filter(_in(period, "resolved_at")),
        "department_id",
        {"res": "resolution_seconds", "res_b": "resolution_business_seconds"},
    )
    for values in resolved.values():
        values["resolved"] = values["res_b_count"]
    rated = rating_figures(ratings)
    rating_rows, distribution = rated["department"], rated["distribution"]
    events = TicketEvent.objects.filter(ticket__assignee=agent, kind=TicketEvent.Kind.ESCALATED).filter(
        _in(period, "created_at")
    )
    per_dept = _merge(first, resolved, message_figures(messages, "department_id"), rating_rows,
                      event_figures(events)["department"])
    names = Department.objects.in_bulk([k for k in per_dept if k is not None])
    report = Report(period=period, departments=list(names.values()), ratings=distribution)
    report.by_department = [
        {"department": names[k], **v} for k, v in sorted(per_dept.items(), key=lambda kv: names[kv[0]].name)
        if k in names
    ]
    totals = _merge(message_figures(messages, None), {None: rated["total"]}).get(None, {})
    totals["frt_count"] = sum(r.get("frt_b_count", 0) for r in report.by_department)
    totals["resolved"] = sum(r.get("resolved", 0) for r in report.by_department)
    totals["breaches"] = sum(r.get("breaches", 0) for r in report.by_department)
    report.totals = totals
    report.histogram = [totals.get(f"h{i}", 0) for i in range(len(HISTOGRAM_BOUNDS) + 1)]
    return report

"""Statistics pages. /reports/ is for managers (their departments) and admins (all); anyone else gets 404.
/reports/me/ shows an agent his own figures. Every table has a CSV export and the figures a JSON form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import selectors, tables
from .charts import bar_chart, line_chart
from .periods import PRESET_LABELS, period_from
from .serialize import report_json

# Reply wait buckets (selectors.HISTOGRAM_BOUNDS).
HISTOGRAM_LABELS = [
    gettext_lazy("< 1 h"),
    gettext_lazy("1–4 h"),
    gettext_lazy("4–8 h"),
    gettext_lazy("8–24 h"),
    gettext_lazy("1–3 d"),
    gettext_lazy("> 3 d"),
]


def _department_report(request):
    """The departments the user asked for (one by slug, or all he may see) and their report, else 404."""
    allowed = list(selectors.reportable_departments(request.user))
    if not allowed:
        raise Http404
    slug = request.GET.get("department", "")
    chosen = [d for d in allowed if d.slug == slug] if slug else allowed
    if not chosen:
        raise Http404
    period = period_from(request.GET)
    return allowed, chosen, selectors.department_report(chosen, period)


def _own_report(request):
    if not selectors.can_see_own_report(request.user):
        raise Http404
    return selectors.agent_report(request.user, period_from(request.GET))


def department_report_for(request):
    """The report of the departments asked for in request.GET (404 if the user may not see them); the API
    serves the same figures through this."""
    return _department_report(request)[2]


def own_report_for(request):
    return _own_report(request)


def _charts(report, *, with_days: bool) -> dict:
    charts = {"histogram": bar_chart(HISTOGRAM_LABELS, report.histogram),
              "ratings": bar_chart(["1", "2", "3", "4", "5"], [report.ratings[s] for s in range(1, 6)])}
    if with_days:
        days = [r["day"] for r in report.daily]
        charts["flow"] = line_chart(days, [
            (_("Created"), "series-created", [r["created"] for r in report.daily]),
            (_("Resolved"), "series-resolved", [r["resolved"] for r in report.daily]),
        ])
        charts["backlog"] = line_chart(days, [(_("Backlog"), "series-backlog", [r["backlog"] for r in report.daily])])
    return charts


def _periods(request) -> list[dict]:
    keep = {k: v for k, v in request.GET.items() if k in ("department",)}
    return [{"key": k, "label": label, "query": urlencode({**keep, "period": k})} for k, label in PRESET_LABELS.items()]


@login_required
def index(request):
    allowed, chosen, report = _department_report(request)
    selected = request.GET.get("department", "")
    query = urlencode({**({"department": selected} if selected else {}), **report.period.query()})
    show = tables.display_rows
    return render(request, "reports/index.html", {
        "report": report, "allowed": allowed, "selected": selected, "query": query,
        "department_columns": tables.DEPARTMENT_COLUMNS, "agent_columns": tables.AGENT_COLUMNS,
        "daily_columns": tables.DAILY_COLUMNS, "charts": _charts(report, with_days=True),
        "department_rows": show(tables.DEPARTMENT_COLUMNS, report.by_department),
        "agent_rows": show(tables.AGENT_COLUMNS, report.agents),
        "daily_rows": show(tables.DAILY_COLUMNS, report.daily),
        "rating_rows": show(tables.RATING_COLUMNS, _rating_rows(report)),
        "periods": _periods(request), "rating_columns": tables.RATING_COLUMNS,
        "all_query": urlencode(report.period.query()),
        "department_links": [
            {"slug": d.slug, "name": d.name, "query": urlencode({"department": d.slug, **report.period.query()})}
            for d in allowed
        ],
    })


@login_required
def own(request):
    report = _own_report(request)
    return render(request, "reports/own.html", {
        "report": report, "columns": tables.OWN_COLUMNS, "charts": _charts(report, with_days=False),
        "periods": _periods(request), "query": urlencode(report.period.query()),
        "rows": tables.display_rows(tables.OWN_COLUMNS, report.by_department),
    })


def _rating_rows(report) -> list[dict]:
    return [{"score": "★" * s, "count": report.ratings[s]} for s in range(5, 0, -1)]


EXPORTS = {
    "departments": (tables.DEPARTMENT_COLUMNS, lambda r: r.by_department),
    "agents": (tables.AGENT_COLUMNS, lambda r: r.agents),
    "daily": (tables.DAILY_COLUMNS, lambda r: r.daily),
    "ratings": (tables.RATING_COLUMNS, _rating_rows),
}


def _csv_response(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
def export(request, table: str):
    if table not in EXPORTS:
        raise Http404
    _allowed, _chosen, report = _department_report(request)
    columns, rows = EXPORTS[table]
    return _csv_response(tables.to_csv(columns, rows(report)), f"report-{table}-{report.period.first_day}")


@login_required
def own_export(request):
    report = _own_report(request)
    return _csv_response(tables.to_csv(tables.OWN_COLUMNS, report.by_department), f"my-report-{report.period.first_day}")


@login_required
def api(request):
    """The same figures as JSON (session authentication, like the pages)."""
    _allowed, _chosen, report = _department_report(request)
    return JsonResponse(report_json(report), json_dumps_params={"ensure_ascii": False})


@login_required
def own_api(request):
    return JsonResponse(report_json(_own_report(request)), json_dumps_params={"ensure_ascii": False})

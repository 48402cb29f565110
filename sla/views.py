"""Managers edit their departments' SLA policies, business hours, holidays and escalation levels.
Departments the user does not manage, and their objects, are 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from departments.permissions import managed_departments

from . import selectors, services
from .forms import BusinessHoursForm, EscalationLevelForm, HolidayForm, SlaPolicyForm
from .models import BusinessHours, EscalationLevel, Holiday, SlaPolicy

# kind in the URL -> (model, form, title)
KINDS = {
    "policy": (SlaPolicy, SlaPolicyForm, gettext_lazy("SLA policy")),
    "holiday": (Holiday, HolidayForm, gettext_lazy("Holiday")),
    "level": (EscalationLevel, EscalationLevelForm, gettext_lazy("Escalation level")),
}


@login_required
def index(request):
    departments = managed_departments(request.user).order_by("position", "name")
    if not departments:
        raise Http404
    return render(request, "sla/index.html", {"departments": departments})


@login_required
def department(request, slug: str):
    dept = selectors.managed_department(request.user, slug)
    context = {"department": dept, **selectors.department_config(dept)}
    return render(request, "sla/department.html", context)


def _kind_and_object(dept, kind: str, pk: int | None):
    if kind not in KINDS:
        raise Http404
    model, form_class, title = KINDS[kind]
    if pk is None:
        return form_class, title, None
    # Only the department's own rows: a global holiday (department empty) is edited in the admin.
    instance = model.objects.filter(department=dept, pk=pk).first()
    if instance is None:
        raise Http404
    return form_class, title, instance


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, slug: str, kind: str, pk: int | None = None):
    dept = selectors.managed_department(request.user, slug)
    form_class, title, instance = _kind_and_object(dept, kind, pk)
    form = form_class(request.POST or None, instance=instance, department=dept)
    if request.method == "POST" and form.is_valid():
        services.save_config(form)
        messages.success(request, _("Saved."))
        return redirect("sla_department", dept.slug)
    return render(request, "sla/form.html", {"department": dept, "form": form, "title": title})


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, slug: str, kind: str, pk: int):
    dept = selectors.managed_department(request.user, slug)
    _form_class, title, instance = _kind_and_object(dept, kind, pk)
    if request.method == "POST":
        services.delete_config(instance)
        messages.success(request, _("Deleted."))
        return redirect("sla_department", dept.slug)
    return render(request, "sla/delete.html", {"department": dept, "instance": instance, "title": title})


@login_required
@require_http_methods(["GET", "POST"])
def hours(request, slug: str):
    dept = selectors.managed_department(request.user, slug)
    instance = BusinessHours.objects.filter(department=dept).first()
    form = BusinessHoursForm(request.POST or None, instance=instance, department=dept)
    if request.method == "POST" and form.is_valid():
        services.save_config(form)
        messages.success(request, _("Saved."))
        return redirect("sla_department", dept.slug)
    title = _("Business hours")
    return render(request, "sla/form.html", {"department": dept, "form": form, "title": title})

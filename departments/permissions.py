"""Who may see and change what. Views get tickets only through access_ticket().

An object the user may not see raises Http404, never 403: we do not reveal that it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from .models import Department, Membership

if TYPE_CHECKING:
    from accounts.models import User
    from tickets.models import Ticket


def is_agent(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_agent or user.is_superuser))


def visible_departments(user: User):
    """Departments whose tickets the user works (admins: all)."""
    if not is_agent(user):
        return Department.objects.none()
    if user.is_superuser:
        return Department.objects.all()
    return Department.objects.filter(memberships__user=user)


def managed_departments(user: User):
    if not is_agent(user):
        return Department.objects.none()
    if user.is_superuser:
        return Department.objects.all()
    return Department.objects.filter(memberships__user=user, memberships__role=Membership.Role.MANAGER)


def is_manager(user: User, department: Department) -> bool:
    return managed_departments(user).filter(pk=department.pk).exists()


def visible_tickets(user: User, queryset=None):
    """Tickets the user may open: an agent's departments, a customer's own tickets.

    Pass a queryset (e.g. with select_related) to restrict it the same way.
    """
    from tickets.models import Ticket

    qs = Ticket.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    if is_agent(user):
        # A semi-join on the agent's few memberships (not a join through departments): PostgreSQL turns it
        # into "department_id = ANY(...)", which the per-department queue indexes answer directly.
        return qs.filter(department_id__in=Membership.objects.filter(user=user).values("department_id"))
    return qs.filter(customer=user)


def access_ticket(user: User, number: int | str, *, queryset=None) -> Ticket:
    """The ticket with this reference number if the user may see it, else Http404."""
    qs = visible_tickets(user, queryset)
    try:
        return qs.get(number=int(str(number).lstrip("#")))
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def can_see_internal(user: User, ticket: Ticket) -> bool:
    """Internal notes are for the ticket's department staff only, never for customers."""
    return is_agent(user) and visible_departments(user).filter(pk=ticket.department_id).exists()

"""The only code that changes workspaces. Views turn WorkspaceError into form errors."""

from django.db import transaction
from django.utils.translation import gettext as _

from departments.models import Department
from departments.permissions import is_manager, visible_departments

from .filters import clean_params
from .models import SavedSearch


class WorkspaceError(Exception):
    pass


def _check_sharing(*, actor, department: Department | None, is_default: bool) -> None:
    if department is not None and not visible_departments(actor).filter(pk=department.pk).exists():
        raise WorkspaceError(_("You can share only with your own departments."))
    if is_default and (department is None or not is_manager(actor, department)):
        raise WorkspaceError(_("Only a manager of the department can make a workspace its default."))


@transaction.atomic
def workspace_create(
    *, owner, name: str, filters: dict, department: Department | None = None, is_default: bool = False
) -> SavedSearch:
    _check_sharing(actor=owner, department=department, is_default=is_default)
    return SavedSearch.objects.create(
        owner=owner, name=name.strip()[:100], filters=clean_params(filters), department=department,
        is_default=is_default,
    )


@transaction.atomic
def workspace_update(
    *, workspace: SavedSearch, actor, name: str, department: Department | None, is_default: bool
) -> SavedSearch:
    """Rename, share or unshare, make (or stop being) a department default."""
    ws = SavedSearch.objects.select_for_update().get(pk=workspace.pk)
    if department != ws.department or is_default != ws.is_default:
        _check_sharing(actor=actor, department=department, is_default=is_default)
    ws.name, ws.department, ws.is_default = name.strip()[:100], department, is_default and department is not None
    ws.save(update_fields=["name", "department", "is_default", "updated_at"])
    return ws


@transaction.atomic
def workspace_replace_filters(*, workspace: SavedSearch, filters: dict) -> SavedSearch:
    ws = SavedSearch.objects.select_for_update().get(pk=workspace.pk)
    ws.filters = clean_params(filters)
    ws.save(update_fields=["filters", "updated_at"])
    return ws


@transaction.atomic
def workspace_delete(*, workspace: SavedSearch) -> None:
    SavedSearch.objects.filter(pk=workspace.pk).delete()

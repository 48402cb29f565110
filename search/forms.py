from django import forms
from django.utils.translation import gettext_lazy as _

from departments.permissions import managed_departments, visible_departments
from tickets.choices import Priority

from .filters import ASSIGNEE_SPECIAL, SORTS, STATUS_CHOICES
from .models import SavedSearch

ANY = [("", _("Any"))]


class DateInput(forms.DateInput):
    input_type = "date"


class SearchForm(forms.Form):
    """Shows the search's parameters (the query itself is built by filters.parse_filters)."""

    q = forms.CharField(label=_("Text"), required=False, max_length=200)
    subject_only = forms.BooleanField(label=_("Subject only"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=ANY + STATUS_CHOICES)
    priority = forms.ChoiceField(label=_("Priority"), required=False, choices=ANY + Priority.choices)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    answered_by = forms.ChoiceField(label=_("Answered by"), required=False)
    customer = forms.CharField(
        label=_("Customer or Cc"), required=False, max_length=200,
        help_text=_("An email address, or part of a name."),
    )
    created_after = forms.DateField(label=_("Created from"), required=False, widget=DateInput)
    created_before = forms.DateField(label=_("Created until"), required=False, widget=DateInput)
    updated_after = forms.DateField(label=_("Last activity from"), required=False, widget=DateInput)
    updated_before = forms.DateField(label=_("Last activity until"), required=False, widget=DateInput)
    has_attachments = forms.BooleanField(label=_("Has attachments"), required=False)
    escalated = forms.BooleanField(label=_("Escalated"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=list(SORTS.items()))

    def __init__(self, *args, user, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = ANY + [
            (d.slug, d.name) for d in visible_departments(user).order_by("position", "name")
        ]
        people = [(str(a.pk), a.name) for a in agents]
        self.fields["assignee"].choices = ANY + list(ASSIGNEE_SPECIAL.items()) + people
        self.fields["answered_by"].choices = ANY + people


class SaveWorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Workspace name"), max_length=100)


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = SavedSearch
        fields = ["name", "department", "is_default"]
        labels = {"department": _("Share with department")}
        help_texts = {"is_default": _("Listed first for every member of the department (managers only).")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = visible_departments(user).order_by("position", "name")
        self.fields["department"].required = False
        if not managed_departments(user).exists():
            del self.fields["is_default"]

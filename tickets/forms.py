"""Forms of the agent workspace. They parse and validate input; the views hand the result to services."""

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from departments.models import Department
from departments.permissions import managed_departments, visible_departments

from .attachments import IncomingFile
from .choices import Priority, Status
from .models import CannedResponse, Product, Ticket


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def incoming_files(uploaded) -> list[IncomingFile]:
    return [IncomingFile(filename=f.name, data=f.read()) for f in uploaded or []]


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only agents see notes. Mention a colleague with @name to notify him."),
    )
    files = MultipleFileField(label=_("Attachments"))


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply to the customer"), widget=forms.Textarea(attrs={"rows": 8}))
    files = MultipleFileField(label=_("Attachments"))
    cc = forms.CharField(
        label=_("Cc"), required=False, help_text=_("Extra recipients, separated by commas."), max_length=1000
    )
    status = forms.ChoiceField(
        label=_("Status after sending"), choices=Status.choices, initial=Status.PENDING
    )
    last_seen = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    confirm = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def clean_cc(self) -> list[str]:
        addresses = [a.strip() for a in self.cleaned_data["cc"].replace(";", ",").split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    _("%(address)s is not a valid email address."), params={"address": address}
                ) from exc
        return addresses


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            memberships__department_id=ticket.department_id, is_active=True
        ).order_by("display_name", "email")
        self.fields["assignee"].empty_label = _("Nobody")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)


class DetailsForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=255)
    product = forms.ModelChoiceField(
        label=_("Product or service"), queryset=Product.objects.filter(is_active=True), required=False
    )


def _other_departments(ticket: Ticket | None):
    qs = Department.objects.active().order_by("position", "name")
    return qs.exclude(pk=ticket.department_id) if ticket is not None else qs


class TransferForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Transfer to"), queryset=Department.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, ticket: Ticket | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _other_departments(ticket)


class SplitForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department of the new ticket"), queryset=Department.objects.none()
    )
    subject = forms.CharField(label=_("Subject of the new ticket"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.active().order_by("position", "name")


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(label=_("Merge this ticket into"), queryset=Ticket.objects.none())

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = candidates
        self.fields["target"].label_from_instance = lambda t: (
            f"{t.reference} {t.subject} ({t.get_status_display()})"
        )


class BulkForm(forms.Form):
    ACTIONS = [
        ("assign_me", _("Assign to me")),
        ("assign", _("Assign to")),
        ("unassign", _("Unassign")),
        ("status", _("Set status")),
        ("transfer", _("Transfer")),
    ]
    tickets = forms.ModelMultipleChoiceField(queryset=Ticket.objects.none(), to_field_name="number")
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    assignee = forms.ModelChoiceField(label=_("Agent"), queryset=User.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices, required=False)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, tickets, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tickets"].queryset = tickets
        self.fields["department"].queryset = _other_departments(None)
        # Colleagues from the agent's departments; the service refuses one outside a ticket's department.
        self.fields["assignee"].queryset = (
            User.objects.filter(is_active=True, memberships__department__in=visible_departments(user))
            .distinct()
            .order_by("display_name", "email")
        )

    def clean(self):
        data = super().clean()
        if data.get("action") == "transfer" and not data.get("department"):
            self.add_error("department", _("Choose the department to transfer to."))
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose the agent."))
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        return data


class CannedResponseForm(forms.ModelForm):
    department = forms.ModelChoiceField(
        label=_("Shared with department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Nobody (personal)"),
    )

    class Meta:
        model = CannedResponse
        fields = ["title", "body", "department"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["department"].queryset = managed_departments(user).order_by("position", "name")

    def save(self, commit=True):
        canned = super().save(commit=False)
        # A personal response belongs to its author; a shared one to the department alone.
        canned.owner = None if canned.department_id else self.user
        if commit:
            canned.save()
        return canned

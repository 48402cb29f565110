"""Forms of the customer cabinet: new ticket, reply, rating."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from departments.models import Department, FormKind

from .attachments import IncomingFile, check_file
from .exceptions import AttachmentRejected
from .fields import SPECS_BY_KIND, FieldSpec, specs_for
from .models import Product
from .selectors_customer import recent_ticket_count
from .services.rating import SCORES

TRIAGE = "triage"
SUBJECT_MAX = 120
ACCEPT = ".png,.gif,.jpg,.jpeg,.pdf,image/png,image/gif,image/jpeg,application/pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files, each sniffed by content (tickets.attachments.check_file) and limited to the
    customer-allowed types; the cleaned value is a list of IncomingFile ready for the services."""

    widget = MultipleFileInput(attrs={"accept": ACCEPT})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        super().__init__(**kwargs)
        self.help_text = _("Screenshots or documents: PNG, GIF, JPEG or PDF, up to %(size)s each.") % {
            "size": filesizeformat(settings.HELPDESK_ATTACHMENT_MAX_BYTES)
        }

    def clean(self, data, initial=None):
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        limit = settings.HELPDESK_CUSTOMER_MAX_FILES
        if len(uploads) > limit:
            raise forms.ValidationError(
                ngettext("Attach at most %(n)d file.", "Attach at most %(n)d files.", limit) % {"n": limit}
            )
        checked, errors = [], []
        for upload in uploads:
            try:
                checked.append(self._check(upload))
            except AttachmentRejected as exc:
                errors.append(forms.ValidationError(str(exc.message), code="attachment"))
        if errors:
            raise forms.ValidationError(errors)
        return checked

    def _check(self, upload) -> IncomingFile:
        name = upload.name or "attachment"
        if upload.size > settings.HELPDESK_ATTACHMENT_MAX_BYTES:  # refuse before reading it into memory
            check_file(name, b"\0" * (settings.HELPDESK_ATTACHMENT_MAX_BYTES + 1))
        data = upload.read()
        content_type = check_file(name, data)
        if content_type not in settings.HELPDESK_CUSTOMER_ATTACHMENT_TYPES:
            raise AttachmentRejected(
                _("%(name)s: only PNG, GIF and JPEG images and PDF documents can be attached.")
                % {"name": name}
            )
        return IncomingFile(filename=name, data=data)


def _structured_field(spec: FieldSpec) -> forms.Field:
    common = {
        "label": spec.label,
        "help_text": spec.help_text,
        "required": False,
        "max_length": spec.max_length,
    }
    if spec.widget == "url":
        return forms.URLField(
            assume_scheme="https", widget=forms.URLInput(attrs={"inputmode": "url"}), **common
        )
    if spec.widget == "textarea":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(**common)


class NewTicketForm(forms.Form):
    category = forms.ChoiceField(label=_("What is your request about?"))
    product = forms.ModelChoiceField(
        label=_("Product or service"),
        queryset=Product.objects.none(),
        required=False,
        empty_label=_("Question not related to products"),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=SUBJECT_MAX,
        help_text=_("A short, precise summary, e.g. “example.com shows error 500 since 10:00”."),
        widget=forms.TextInput(attrs={"data-counter": SUBJECT_MAX}),
    )
    body = forms.CharField(
        label=_("Describe your request"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One problem per request: for another problem, please open another ticket."),
        max_length=50000,
    )
    attachments = AttachmentsField()

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.departments = {
            str(d.pk): d
            for d in Department.objects.active().filter(customer_selectable=True, is_triage=False)
        }
        self.triage = Department.objects.active().filter(is_triage=True).first()
        choices = [(key, d.name) for key, d in self.departments.items()]
        if self.triage is not None:
            choices.append((TRIAGE, _("I don't know, let support route it")))
        self.fields["category"].choices = choices
        self.fields["product"].queryset = Product.objects.filter(is_active=True)
        for specs in SPECS_BY_KIND.values():
            for spec in specs:
                self.fields[f"f_{spec.key}"] = _structured_field(spec)

    def category_options(self) -> list[dict]:
        """The categories with their descriptions and the field group each one shows (for the template)."""
        chosen = str(self["category"].value() or "")
        options = [
            {"value": key, "label": d.name, "description": d.description, "form_kind": d.form_kind}
            for key, d in self.departments.items()
        ]
        if self.triage is not None:
            options.append(
                {
                    "value": TRIAGE,
                    "label": _("I don't know, let support route it"),
                    "description": _("Our staff will pass your request to the right team."),
                    "form_kind": FormKind.GENERIC,
                }
            )
        return [
            {**o, "checked": o["value"] == chosen, "id": f"id_category_{i}"} for i, o in enumerate(options)
        ]

    def field_groups(self) -> list[dict]:
        titles = {
            FormKind.TECHNICAL: _("Details for technical support"),
            FormKind.SALES: _("Details for sales and billing"),
        }
        return [
            {"kind": kind, "title": titles.get(kind, ""), "fields": [self[f"f_{s.key}"] for s in specs]}
            for kind, specs in SPECS_BY_KIND.items()
        ]

    def clean(self):
        data = super().clean()
        limit = settings.HELPDESK_CUSTOMER_TICKETS_PER_HOUR
        if recent_ticket_count(self.customer) >= limit:
            raise forms.ValidationError(
                ngettext(
                    "You have opened %(n)d request in the last hour. Please wait a little, or add to an open request.",
                    "You have opened %(n)d requests in the last hour. Please wait a little, or add to an open request.",
                    limit,
                )
                % {"n": limit},
                code="rate_limited",
            )
        return data

    @property
    def department(self) -> Department:
        value = self.cleaned_data["category"]
        return self.triage if value == TRIAGE else self.departments[value]

    def structured_fields(self) -> dict[str, str]:
        """Only the chosen category's details: without JavaScript the customer sees every group."""
        specs = specs_for(self.department.form_kind)
        values = {s.key: self.cleaned_data.get(f"f_{s.key}", "").strip() for s in specs}
        return {key: value for key, value in values.items() if value}


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), widget=forms.Textarea(attrs={"rows": 5}), max_length=50000
    )
    attachments = AttachmentsField()


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How helpful was this answer?"),
        choices=[(s, str(s)) for s in reversed(SCORES)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

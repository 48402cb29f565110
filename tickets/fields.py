"""Structured, category-specific details of a new ticket (stored in Ticket.fields).

One definition drives the customer's form, its help texts and how the details are shown to agents and
customers, so the keys in Ticket.fields always have a label. Keys are unique across form kinds.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from departments.models import FormKind


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    help_text: str
    widget: str = "text"  # text | textarea | url
    max_length: int = 500


TECHNICAL = (
    FieldSpec(
        "site",
        _("Site or server name"),
        _("The domain, server name or IP address, e.g. example.com."),
        max_length=255,
    ),
    FieldSpec(
        "error",
        _("What exactly happens"),
        _("Copy the exact error message or describe what you see."),
        "textarea",
        4000,
    ),
    FieldSpec(
        "since",
        _("Since when"),
        _("Date and time the problem started, as exactly as you can."),
        max_length=255,
    ),
    FieldSpec(
        "changed",
        _("What changed just before"),
        _("Updates, new plugins, DNS or configuration changes."),
        "textarea",
    ),
    FieldSpec(
        "tried", _("What you have already tried"), _("So we do not ask you to do it again."), "textarea"
    ),
    FieldSpec(
        "url",
        _("Link where we can see the problem"),
        _("A page or address that shows the problem."),
        "url",
        500,
    ),
)

SALES = (
    FieldSpec(
        "invoice",
        _("Invoice code and number"),
        _("As printed on the invoice, e.g. INV-2024-00123."),
        max_length=100,
    ),
    FieldSpec(
        "payment_method", _("Intended payment method"), _("Card, bank transfer, PayPal..."), max_length=100
    ),
    FieldSpec(
        "problem",
        _("What exactly goes wrong"),
        _("For example: the payment is declined with a message."),
        "textarea",
        4000,
    ),
)

SPECS_BY_KIND: dict[str, tuple[FieldSpec, ...]] = {FormKind.TECHNICAL: TECHNICAL, FormKind.SALES: SALES}
ALL_SPECS = {spec.key: spec for specs in SPECS_BY_KIND.values() for spec in specs}


def specs_for(form_kind: str) -> tuple[FieldSpec, ...]:
    return SPECS_BY_KIND.get(form_kind, ())


def field_rows(values: dict) -> list[tuple[str, str, bool]]:
    """(label, value, is_url) for display: known fields in form order, then any others by key.

    Other keys come from the API or the mail gateway; internal markers (starting with '_') and empty
    values are skipped.
    """
    rows = [
        (spec.label, str(values[spec.key]), spec.widget == "url")
        for spec in ALL_SPECS.values()
        if values.get(spec.key)
    ]
    extra = sorted(
        k
        for k, v in values.items()
        if k not in ALL_SPECS and not k.startswith("_") and not isinstance(v, bool) and v not in ("", None)
    )
    return rows + [(key, str(values[key]), False) for key in extra]

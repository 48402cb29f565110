from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .business_hours import format_intervals, parse_intervals
from .models import BusinessHours, EscalationLevel, Holiday, SlaPolicy
from .selectors import WEEKDAYS


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = [
            "priority",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "business_hours",
            "warning_percent",
        ]

    def __init__(self, *args, department=None, **kwargs):
        super().__init__(*args, **kwargs)
        if department is not None:
            self.instance.department = department

    def clean(self):
        data = super().clean()
        others = SlaPolicy.objects.filter(department=self.instance.department, priority=data.get("priority"))
        if self.instance.department_id and others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This department already has a policy for this priority."))
        return data


def _day_field(day: int) -> forms.CharField:
    help_text = _("For example 09:00-13:00, 14:00-18:00. Empty: closed.") if day == 0 else ""
    return forms.CharField(label=WEEKDAYS[day], required=False, help_text=help_text)


class BusinessHoursForm(forms.ModelForm):
    """The weekly schedule as one text field per weekday: "09:00-13:00, 14:00-18:00"; empty = closed.
    (Declared on the class, not added in __init__, so the admin shows and saves them too.)"""

    day_0, day_1, day_2, day_3, day_4, day_5, day_6 = (_day_field(d) for d in range(7))

    class Meta:
        model = BusinessHours
        fields = ["department", "time_zone"]

    def __init__(self, *args, department=None, **kwargs):
        super().__init__(*args, **kwargs)
        if department is not None:
            self.instance.department = department
            del self.fields["department"]
        for day in range(7):
            self.fields[f"day_{day}"].initial = format_intervals(self.instance.intervals(day))

    def clean(self):
        data = super().clean()
        schedule = {}
        for day in range(7):
            try:
                intervals = parse_intervals(data.get(f"day_{day}", ""))
            except ValueError:
                self.add_error(f"day_{day}", _("Write opening hours like 09:00-18:00, separated by commas."))
                continue
            if intervals:
                schedule[str(day)] = [list(i) for i in intervals]
        self.instance.schedule = schedule
        return data


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, department=None, **kwargs):
        super().__init__(*args, **kwargs)
        if department is not None:
            self.instance.department = department

    def clean_date(self):
        value = self.cleaned_data["date"]
        if Holiday.objects.filter(department=self.instance.department, date=value).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This day is already a holiday."))
        return value


class EscalationLevelForm(forms.ModelForm):
    class Meta:
        model = EscalationLevel
        fields = ["level", "after_minutes", "notify_managers", "users", "emails"]
        widgets = {"emails": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, department=None, **kwargs):
        super().__init__(*args, **kwargs)
        if department is not None:
            self.instance.department = department
            # Only the department's own staff can be picked.
            self.fields["users"].queryset = User.objects.filter(
                memberships__department=department, is_active=True
            ).order_by("display_name")

    def clean_level(self):
        value = self.cleaned_data["level"]
        others = EscalationLevel.objects.filter(department=self.instance.department, level=value)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This level already exists."))
        return value

    def clean_emails(self):
        value = self.cleaned_data["emails"]
        for email in (e.strip() for e in value.replace(",", "\n").splitlines()):
            if email:
                forms.EmailField().clean(email)
        return value

import functools
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from . import services
from .models import User
from .tokens import set_password_url


@functools.cache
def _zone_names() -> list[str]:
    return sorted(
        z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    )


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("Server default (%(zone)s)") % {"zone": settings.TIME_ZONE})] + [
        (z, z) for z in _zone_names()
    ]


def language_choices() -> list[tuple[str, str]]:
    return [("", _("Same as my browser"))] + list(settings.LANGUAGES)


class TimeZoneField(forms.ChoiceField):
    def __init__(self, *, guess: bool = False, **kwargs):
        kwargs.setdefault("label", _("Time zone"))
        kwargs.setdefault("help_text", _("Times on the site are shown in this zone."))
        # On a new account the script preselects the browser's zone (static/js/cabinet.js).
        widget = forms.Select(attrs={"data-guess-time-zone": ""} if guess else {})
        super().__init__(choices=time_zone_choices, required=False, widget=widget, **kwargs)


class RegistrationForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        help_text=_("How our staff will address you."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=language_choices, required=False)
    time_zone = TimeZoneField(guess=True)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            probe = User(email=data.get("email", ""), display_name=data.get("display_name", ""))
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form, plus a helpful message for a correct password on an unverified account."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "unverified": _(
            "Please confirm your email address first: follow the link we sent you. "
            "You can ask for a new link below."
        ),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            user = User.objects.filter(email__iexact=self.cleaned_data.get("username") or "").first()
            password = self.cleaned_data.get("password") or ""
            if user and services.is_pending_registration(user) and user.check_password(password):
                raise forms.ValidationError(self.error_messages["unverified"], code="unverified") from None
            raise


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), choices=language_choices, required=False)
    time_zone = TimeZoneField()

    class Meta:
        model = User
        fields = ["display_name", "language", "time_zone"]
        labels = {"display_name": _("Your name")}


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Also for customers created from an email (no usable password yet): that is how they claim the
    account. The mail goes through the outbox, in the customer's language."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True).exclude(email="")

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        user = context["user"]
        services.send_password_reset(user, reset_url=set_password_url(user))


class SetPasswordForm(auth_forms.SetPasswordForm):
    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            services.mark_email_verified(user)
        return user

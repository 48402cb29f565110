from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from departments.permissions import is_agent

from . import services, throttle
from .forms import (
    LoginForm,
    PasswordResetForm,
    ProfileForm,
    RegistrationForm,
    ResendVerificationForm,
    SetPasswordForm,
)
from .models import User


def home(request):
    if request.user.is_authenticated:
        return redirect("agent_queue" if is_agent(request.user) else "ticket_list")
    return render(request, "home.html")


@require_POST
def set_language(request):
    """Django's switcher, plus: a logged-in user's choice is saved as his preference."""
    lang = request.POST.get("language", "")
    if request.user.is_authenticated and lang in dict(settings.LANGUAGES):
        request.user.language = lang
        request.user.save(update_fields=["language"])
    nxt = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        request.POST = request.POST.copy()
        request.POST["next"] = "/"
    return django_set_language(request)


class LoginView(auth_views.LoginView):
    """Django's login with a lockout: too many failures for one address or from one IP address
    refuse further attempts for a while (without checking the password at all)."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if self._blocked():
            minutes = max(1, settings.HELPDESK_LOGIN_LOCKOUT_SECONDS // 60)
            context = self.get_context_data(
                form=self.form_class(request),
                throttled=_(
                    "Too many failed attempts. Please try again in %(minutes)s minutes or reset your password."
                )
                % {"minutes": minutes},
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        window = settings.HELPDESK_LOGIN_LOCKOUT_SECONDS
        for scope, ident in self._idents():
            throttle.hit(scope, ident, window)
        return super().form_invalid(form)

    def form_valid(self, form):
        throttle.reset("login-email", self.request.POST.get("username", ""))
        return super().form_valid(form)

    def _idents(self):
        return [
            ("login-email", self.request.POST.get("username", "")),
            ("login-ip", throttle.client_ip(self.request)),
        ]

    def _blocked(self) -> bool:
        limits = {
            "login-email": settings.HELPDESK_LOGIN_MAX_FAILURES,
            "login-ip": settings.HELPDESK_LOGIN_MAX_FAILURES * 5,
        }
        return any(throttle.is_blocked(scope, ident, limits[scope]) for scope, ident in self._idents())


def _registration_throttled(request) -> bool:
    ip = throttle.client_ip(request)
    if throttle.is_blocked("register-ip", ip, settings.HELPDESK_REGISTRATIONS_PER_HOUR):
        return True
    throttle.hit("register-ip", ip, 3600)
    return False


def register(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = RegistrationForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        if _registration_throttled(request):
            form.add_error(None, _("Too many registrations from your network. Please try again later."))
        else:
            data = form.cleaned_data
            services.register_customer(
                email=data["email"],
                password=data["password1"],
                display_name=data["display_name"],
                language=data["language"],
                time_zone=data["time_zone"],
            )
            request.session["registered_email"] = data["email"]
            return redirect("register_done")
    return render(request, "accounts/register.html", {"form": form})


def register_done(request):
    return render(
        request, "accounts/register_done.html", {"email": request.session.get("registered_email", "")}
    )


def verify_email(request, uidb64: str, token: str):
    # A GET activates: a mail scanner that prefetches the link only confirms an address it can read
    # anyway; nobody is logged in by it, the customer still needs the password.
    user = services.verify_email(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "accounts/verify_failed.html", status=400)
    messages.success(request, _("Thank you, your email address is confirmed. You can log in now."))
    return redirect("login")


def resend_verification(request):
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not _registration_throttled(request):
            user = User.objects.filter(email__iexact=form.cleaned_data["email"]).first()
            if user is not None and services.is_pending_registration(user):
                services.send_verification(user)
        request.session["registered_email"] = form.cleaned_data["email"]
        return redirect("register_done")
    return render(request, "accounts/resend.html", {"form": form})


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your settings are saved."))
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form, "feeds": _feed_urls(request)})


def _feed_urls(request) -> dict:
    from tickets.feeds import feed_token

    token = feed_token(request.user)
    return {
        "atom": request.build_absolute_uri(reverse("my_tickets_atom", args=[token])),
        "rss": request.build_absolute_uri(reverse("my_tickets_rss", args=[token])),
    }


@login_required
@require_POST
def feed_key_regenerate(request):
    services.regenerate_feed_key(request.user)
    messages.success(request, _("New feed addresses were made; the old ones no longer work."))
    return redirect("profile")


password_reset = auth_views.PasswordResetView.as_view(form_class=PasswordResetForm)
password_reset_done = auth_views.PasswordResetDoneView.as_view()
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(form_class=SetPasswordForm)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view()
password_change = auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done"))
password_change_done = auth_views.PasswordChangeDoneView.as_view()

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import InboundEmail, Mailbox, OutboundEmail
from .views import eml_response


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "to", "message_id_header"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = ["retry_now"]

    @admin.action(description=_("Retry sending now"))
    def retry_now(self, request, queryset):
        n = queryset.exclude(status=OutboundEmail.Status.SENT).update(
            status=OutboundEmail.Status.PENDING, next_attempt_at=timezone.now(), claimed_until=None
        )
        text = ngettext("%(n)d email queued for sending.", "%(n)d emails queued for sending.", n) % {"n": n}
        self.message_user(request, text, messages.SUCCESS)


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "username",
        "host",
        "department",
        "is_active",
        "last_success_at",
        "consecutive_failures",
        "backlog",
        "short_error",
    ]
    list_filter = ["is_active", "security"]
    readonly_fields = [
        "uidvalidity",
        "last_uid",
        "poll_lease_until",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "backlog",
    ]
    actions = ["poll_now"]

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.action(description=_("Poll now"))
    def poll_now(self, request, queryset):
        from .tasks import poll_mailbox

        for mailbox in queryset:
            poll_mailbox.delay(mailbox.pk)
        self.message_user(request, _("Polling queued."), messages.SUCCESS)


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "subject", "from_email", "status", "action", "ticket_link", "source", "attempts"]
    list_filter = ["status", "action", "source"]
    search_fields = ["subject", "from_email", "message_id_header", "error"]
    list_select_related = ["ticket"]
    exclude = ["raw"]
    readonly_fields = [
        f.name for f in InboundEmail._meta.fields if f.name != "raw"
    ] + ["download_raw"]
    actions = ["retry", "accept", "reject"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/raw.eml",
                self.admin_site.admin_view(self.raw_view),
                name="mailgateway_inboundemail_raw",
            )
        ]
        return custom + super().get_urls()

    def raw_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = get_object_or_404(InboundEmail, pk=pk)
        return eml_response(row)

    @admin.display(description=_("ticket"))
    def ticket_link(self, obj):
        return obj.ticket.reference if obj.ticket_id else "—"

    @admin.display(description=_("raw message"))
    def download_raw(self, obj):
        url = reverse("admin:mailgateway_inboundemail_raw", args=[obj.pk])
        return format_html('<a href="{}">{}</a> ({} B)', url, _("Download .eml"), obj.size)

    @admin.action(description=_("Retry processing (quarantined)"))
    def retry(self, request, queryset):
        ids = list(queryset.filter(status=InboundEmail.Status.QUARANTINED).values_list("pk", flat=True))
        results = [services.retry_quarantined(pk) for pk in ids]
        ok = sum(1 for r in results if r is not None and r.status != InboundEmail.Status.QUARANTINED)
        self.message_user(
            request, _("%(ok)d of %(n)d messages processed.") % {"ok": ok, "n": len(ids)}, messages.INFO
        )

    @admin.action(description=_("Accept held mail into its ticket"))
    def accept(self, request, queryset):
        self._held(request, queryset, services.accept_held)

    @admin.action(description=_("Reject held mail: make it a new ticket"))
    def reject(self, request, queryset):
        self._held(request, queryset, services.reject_held)

    def _held(self, request, queryset, service):
        ids = list(queryset.filter(status=InboundEmail.Status.HELD).values_list("pk", flat=True))
        done = sum(1 for pk in ids if service(pk, actor=request.user) is not None)
        self.message_user(request, _("%(n)d held messages handled.") % {"n": done}, messages.SUCCESS)

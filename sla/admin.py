from django.contrib import admin

from .forms import BusinessHoursForm
from .models import BusinessHours, EscalationLevel, Holiday, Notice, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "business_hours",
        "warning_percent",
    ]
    list_filter = ["department", "business_hours"]


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    form = BusinessHoursForm
    list_display = ["department", "time_zone"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "department"]
    list_filter = ["department"]
    date_hierarchy = "date"


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    list_display = ["department", "level", "after_minutes", "notify_managers"]
    list_filter = ["department"]
    filter_horizontal = ["users"]


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Read-only: shows notices whose mail is still waiting (queued empty) and why (last error)."""

    list_display = ["created_at", "kind", "ticket", "target", "level", "queued_at", "attempts"]
    list_filter = ["kind", ("queued_at", admin.EmptyFieldListFilter)]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket", "event"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

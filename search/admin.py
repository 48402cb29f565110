from django.contrib import admin

from .models import SavedSearch


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "department", "is_default", "updated_at")
    list_filter = ("is_default", "department")
    search_fields = ("name", "owner__email")
    raw_id_fields = ("owner",)

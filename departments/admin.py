from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Department, DepartmentAddress, DepartmentSignature, Membership, RoutingRule


class AddressInline(admin.TabularInline):
    model = DepartmentAddress
    extra = 1


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class SignatureInline(admin.StackedInline):
    model = DepartmentSignature
    extra = 0


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "from_email", "is_triage", "customer_selectable", "is_active", "member_count"]
    list_filter = ["is_active", "is_triage", "customer_selectable", "form_kind"]
    search_fields = ["name", "slug", "from_email", "addresses__email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AddressInline, MembershipInline, RoutingRuleInline, SignatureInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj: Department) -> int:
        return obj._members


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department"]
    search_fields = ["user__email", "user__display_name", "department__name"]
    autocomplete_fields = ["user", "department"]

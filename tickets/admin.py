from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    Attachment,
    CannedResponse,
    Message,
    Participant,
    Product,
    Rating,
    Ticket,
    TicketEvent,
    TicketLink,
)


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ["kind", "channel", "author", "created_at", "body_text"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ["created_at", "kind", "actor", "data"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    fields = ["email", "user"]
    raw_id_fields = ["user"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["reference", "subject", "customer", "department", "status", "priority", "assignee", "updated_at"]
    list_filter = ["status", "priority", "department", "channel"]
    search_fields = ["=number", "subject", "customer__email", "customer__display_name"]
    list_select_related = ["customer", "department", "assignee"]
    raw_id_fields = ["customer", "assignee", "merged_into"]
    readonly_fields = ["number", "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at"]
    date_hierarchy = "created_at"
    inlines = [ParticipantInline, MessageInline, EventInline]

    @admin.display(description=_("reference"), ordering="number")
    def reference(self, obj: Ticket) -> str:
        return obj.reference


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["filename", "content_type", "size", "sha256"]
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "channel", "author", "created_at"]
    list_filter = ["kind", "channel"]
    search_fields = ["ticket__number", "message_id", "author__email"]
    list_select_related = ["ticket", "author"]
    raw_id_fields = ["ticket", "author"]
    inlines = [AttachmentInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "position"]
    list_editable = ["is_active", "position"]
    search_fields = ["name"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "department", "owner"]
    list_filter = ["department"]
    search_fields = ["title", "body"]
    list_select_related = ["department", "owner"]
    raw_id_fields = ["owner"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["message", "score", "created_at"]
    list_filter = ["score"]
    raw_id_fields = ["message"]


@admin.register(TicketLink)
class TicketLinkAdmin(admin.ModelAdmin):
    list_display = ["source", "kind", "target", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["source", "target"]

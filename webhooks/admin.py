from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import delivery
from .models import Event, WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(label=_("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "department", "url", "events", "include_internal_notes", "secret", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["name", "department", "url", "is_active"]
    list_filter = ["is_active", "department"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event", "ticket", "status", "attempts", "response_status"]
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint", "ticket"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Deliver again"))
    def redeliver(self, request, queryset):
        from .tasks import deliver

        for row in queryset:
            delivery.redeliver(row)
            deliver.delay(row.pk)

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Helpdesk administration")
admin.site.site_title = _("Helpdesk admin")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("tickets.urls")),
    path("", include("mailgateway.urls")),
    path("sla/", include("sla.urls")),
    path("reports/", include("reports.urls")),
]

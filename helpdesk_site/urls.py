from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Helpdesk administration")
admin.site.site_title = _("Helpdesk admin")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/tokens/", include("api.urls_tokens")),
    path("api/", include("api.urls")),
    path("feeds/", include("api.urls_feeds")),
    path("", include("accounts.urls")),
    path("", include("tickets.urls")),
    path("", include("mailgateway.urls")),
    path("sla/", include("sla.urls")),
    path("search/", include("search.urls")),
    path("reports/", include("reports.urls")),
]

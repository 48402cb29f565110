from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="reports_index"),
    path("export/<slug:table>.csv", views.export, name="reports_export"),
    path("api/", views.api, name="reports_api"),
    path("me/", views.own, name="reports_own"),
    path("me/export.csv", views.own_export, name="reports_own_export"),
    path("me/api/", views.own_api, name="reports_own_api"),
]

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="sla_index"),
    path("<slug:slug>/", views.department, name="sla_department"),
    path("<slug:slug>/hours/", views.hours, name="sla_hours"),
    path("<slug:slug>/<str:kind>/new/", views.edit, name="sla_new"),
    path("<slug:slug>/<str:kind>/<int:pk>/", views.edit, name="sla_edit"),
    path("<slug:slug>/<str:kind>/<int:pk>/delete/", views.delete, name="sla_delete"),
]

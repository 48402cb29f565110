from django.urls import path

from . import views

urlpatterns = [
    path("", views.search, name="search"),
    path("workspaces/new/", views.workspace_save, name="workspace_save"),
    path("workspaces/<int:pk>/", views.workspace_open, name="workspace"),
    path("workspaces/<int:pk>/edit/", views.workspace_edit, name="workspace_edit"),
    path("workspaces/<int:pk>/replace/", views.workspace_replace, name="workspace_replace"),
    path("workspaces/<int:pk>/delete/", views.workspace_delete, name="workspace_delete"),
]

"""Route of the web client, mounted at the site root."""

from django.urls import path

from webclient import views

urlpatterns = [
    path("", views.index, name="webclient"),
]

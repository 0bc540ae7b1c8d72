"""The messages app: messages, inbox state, conversations and sync."""

from django.apps import AppConfig


class MessageserviceConfig(AppConfig):
    name = "messageservice"
    verbose_name = "Messages"

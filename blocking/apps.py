"""The blocking app: who blocks whom."""

from django.apps import AppConfig


class BlockingConfig(AppConfig):
    name = "blocking"
    verbose_name = "Blocking"

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Real-time event stream"

    def ready(self):
        # Django's logout signal, which both of knox's logout views send: the user's sockets re-check
        # their tokens at once.
        from django.contrib.auth.signals import user_logged_out

        from realtime.services import socket_logout_notify

        user_logged_out.connect(socket_logout_notify, dispatch_uid="realtime-logout")

"""The web client's one page: static HTML whose script talks only to the public API."""

from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

# The page holds no data of its own (the token lives in the browser), so it is the same for everyone.
index = require_safe(TemplateView.as_view(template_name="webclient/index.html"))

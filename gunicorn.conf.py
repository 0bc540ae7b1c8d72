"""How `make run` (and `make bench`) serve OMS: one place for the server's settings.

PORT and WEB_CONCURRENCY come from the environment, as on most platforms.
"""

import os

wsgi_app = "oms.wsgi:application"
bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Our own middleware writes one access line per request; gunicorn's would repeat it.
accesslog = None

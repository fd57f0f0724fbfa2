import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the URL conf) lives as long as the process. Move it
# out of the collector's reach: a full collection otherwise walks those ~140,000 objects and
# stalls a request for 60-90 ms now and then (docs/performance.md).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018  (import every view module now, not at the first request)
gc.freeze()

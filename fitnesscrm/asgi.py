"""One ASGI application: HTTP through Django's WSGI handler on a thread pool, WebSockets
through Channels.

Every view is synchronous. Django's ASGI handler would cross between the event loop and a
worker thread for each middleware (MiddlewareMixin runs process_request and process_response
through sync_to_async), about twenty crossings a request; apps.core.asgi.WsgiBridge hands
each request to a thread once (with the body already read, so a slow upload holds no thread)
and takes a whole response back once. bench/api_latency.py measured the bare view going from
about 290 to about 650 requests a second on 2 cores with the same middleware through a2wsgi,
and to about 3,000 through WsgiBridge.
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")

from django.core.wsgi import get_wsgi_application

# Sets Django up (apps, settings) before anything below imports models.
django_wsgi_app = get_wsgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from apps.core.asgi import WsgiBridge  # noqa: E402
from apps.core.channels import TenantAuthMiddlewareStack  # noqa: E402
from fitnesscrm.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WsgiBridge(django_wsgi_app, threads=settings.WEB_THREADS),
        # An Origin under ALLOWED_HOSTS first; then TenantAuthMiddleware requires the gym's own
        # origin (apps/core/channels.py), as every gym's host is under ALLOWED_HOSTS.
        "websocket": AllowedHostsOriginValidator(
            TenantAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything loaded so far (Django, the apps, their modules) lives as long as the process: out
# of the collector's sight, a full collection does not walk it again and again under load.
# bench/api_latency.py: p99 of the bare view about 100 ms -> 45 ms, of the client list
# about 130 ms -> 75 ms.
gc.collect()
gc.freeze()

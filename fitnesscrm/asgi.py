"""The ASGI application, as Channels' documentation sets it up.

In production it serves WebSockets only, in the `realtime` process (uvicorn), which the proxy
reaches at /ws/; HTTP goes to the `web` process (gunicorn with threads, fitnesscrm/wsgi.py).
`make run` serves both from this one application.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")

from django.core.asgi import get_asgi_application

# Sets Django up (apps, settings) before anything below imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.core.channels import TenantAuthMiddlewareStack  # noqa: E402
from fitnesscrm.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # An Origin under ALLOWED_HOSTS first; then TenantAuthMiddleware requires the gym's own
        # origin (apps/core/channels.py), as every gym's host is under ALLOWED_HOSTS.
        "websocket": AllowedHostsOriginValidator(
            TenantAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

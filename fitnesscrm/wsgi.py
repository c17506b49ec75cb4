"""The WSGI application: HTTP in production, under gunicorn with threads (the Procfile's `web`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
application = get_wsgi_application()

"""gunicorn's settings for the `web` process (HTTP): gunicorn reads this file from the working
directory, so the Procfile, the image and Railway start it the same way. Every value comes from
the environment (.env.example, "Processes")."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads per worker run requests side by side (a slow provider call does not hold the worker);
# each thread holds at most one database connection (DB_POOL_MAX_SIZE follows WEB_THREADS).
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# The client address is the app's to work out, by TRUSTED_PROXY_COUNT
# (apps/core/client_address.py); gunicorn trusts no forwarding header itself.
forwarded_allow_ips = ""
# A header spelled with underscores (X_Forwarded_For) would reach Django under the same name as
# the real one (HTTP_X_FORWARDED_FOR); drop it, as nginx does.
header_map = "drop"
accesslog = "-"

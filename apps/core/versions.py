"""When a request reached this process, as the ASGI bridge (apps/core/asgi.py) stamps it in the
WSGI environ before the request's body is read."""

# The environ's key; its value is time.monotonic() at the request's arrival.
ARRIVED = "fitnesscrm.arrived"

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo gym for `make run`: the `seed_demo` command, which creates the gym and fills it
    from the demo data each app keeps next to its services (apps/<app>/demo.py)."""

    name = "apps.demo"
    label = "demo"
    verbose_name = "Demo gym"

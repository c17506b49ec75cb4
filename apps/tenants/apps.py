from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TenantsConfig(AppConfig):
    name = "apps.tenants"
    label = "tenants"
    verbose_name = "Gyms"

    def ready(self) -> None:
        from apps.tenants.middleware import clear_gym_cache
        from apps.tenants.models import Domain, Gym

        for model in (Gym, Domain):
            uid = f"clear-gym-cache-{model.__name__}"
            post_save.connect(clear_gym_cache, sender=model, dispatch_uid=uid)
            post_delete.connect(clear_gym_cache, sender=model, dispatch_uid=uid)

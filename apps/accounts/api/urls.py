from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.accounts.api.views import InvitationViewSet, MeApi, UserViewSet

router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("invitations", InvitationViewSet, basename="invitation")

urlpatterns = [path("me/", MeApi.as_view(), name="api-me"), *router.urls]

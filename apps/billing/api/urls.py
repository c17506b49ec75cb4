from rest_framework.routers import SimpleRouter

from apps.billing.api.views import (
    CreditViewSet,
    MembershipViewSet,
    PackViewSet,
    PaymentViewSet,
    PlanViewSet,
    PromotionCodeViewSet,
)

router = SimpleRouter()
router.register("billing/plans", PlanViewSet, basename="billing-plan")
router.register("billing/packs", PackViewSet, basename="billing-pack")
router.register("billing/promotion-codes", PromotionCodeViewSet, basename="billing-promotion-code")
router.register("billing/memberships", MembershipViewSet, basename="billing-membership")
router.register("billing/credits", CreditViewSet, basename="billing-credit")
router.register("billing/payments", PaymentViewSet, basename="billing-payment")

urlpatterns = router.urls

from django.urls import path

from apps.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("plans/", views.plan_add, name="plan_add"),
    path("plans/<int:pk>/archive/", views.plan_archive, name="plan_archive"),
    path("packs/", views.pack_add, name="pack_add"),
    path("packs/<int:pk>/archive/", views.pack_archive, name="pack_archive"),
    path("codes/", views.code_add, name="code_add"),
    path("codes/<int:pk>/toggle/", views.code_toggle, name="code_toggle"),
    path("settings/", views.settings_save, name="settings"),
    path("failed-payments/", views.failed_payments, name="failed_payments"),
    path("fees/<int:pk>/collect/", views.fee_collect, name="fee_collect"),
    path("clients/<int:pk>/sell-plan/", views.sell_plan, name="sell_plan"),
    path("clients/<int:pk>/sell-pack/", views.sell_pack, name="sell_pack"),
    path("clients/<int:pk>/record-payment/", views.record_payment, name="record_payment"),
    path("payments/<int:pk>/refund/", views.refund, name="refund"),
    path(
        "memberships/<int:pk>/<slug:action>/",
        views.membership_action,
        name="membership_action",
    ),
]

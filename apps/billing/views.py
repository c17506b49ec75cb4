"""Billing pages: the catalogue, failed payments, the actions of a client's "Membership &
payments" section, and the portal's memberships page. Thin: services decide, selectors read."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.billing import selectors, services
from apps.billing.forms import (
    BillingSettingsForm,
    CancelForm,
    CollectFeeForm,
    PackForm,
    PauseForm,
    PlanForm,
    PortalBuyForm,
    PromotionCodeForm,
    RecordPaymentForm,
    RefundForm,
    SellPackForm,
    SellPlanForm,
)
from apps.billing.models import Membership, MembershipPlan, Pack, Payment, PromotionCode
from apps.billing.money import to_major
from apps.core.forms import add_service_errors
from apps.crm import selectors as crm_selectors
from apps.crm.models import Client
from apps.portal.views import client_required

SELLERS = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)
# The session's last Checkout link sent from a profile: {"client": pk, "url": ...}.
CHECKOUT_LINK_KEY = "billing_checkout_link"
MANAGERS = (Role.OWNER, Role.MANAGER)


def _client_or_404(viewer: Any, pk: int) -> Client:
    client = crm_selectors.client_list(viewer=viewer).filter(pk=pk).first()
    if client is None:
        raise Http404
    return client


def _back_to(client: Client) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("crm:client_detail", args=[client.pk]) + "#billing")


def _form_errors(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _submit(
    request: HttpRequest,
    client: Client,
    form: Any,
    service: Callable[..., Any],
    done: str | Promise,
) -> HttpResponseRedirect:
    """Check `form` (None: nothing to fill in), then call `service` with its data; a refusal
    becomes the message shown on the client's profile."""
    if form is not None and not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to(client)
    try:
        service(**(form.cleaned_data if form is not None else {}))
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(getattr(error, "messages", [])) or str(error) or _("Not allowed.")
        messages.error(request, text)
    else:
        messages.success(request, done)
    return _back_to(client)


# --- Catalogue -----------------------------------------------------------------------------


def _catalogue_context(request: HttpRequest, **forms: Any) -> dict[str, Any]:
    owner = selectors.can_manage_catalogue(request.user)
    settings_row = selectors.billing_settings()
    return {
        "plans": selectors.plan_list(include_archived=owner),
        # The drop-in has its own line, with the drop-in price (its archived ones are history).
        "packs": selectors.pack_list(include_archived=owner).filter(is_drop_in=False),
        "drop_in": selectors.drop_in_pack(),
        "codes": selectors.promotion_code_list(),
        "settings_row": settings_row,
        "can_edit": owner,
        "can_manage": selectors.can_manage_memberships(request.user),
        "plan_form": forms.get("plan_form") or PlanForm(prefix="plan"),
        "pack_form": forms.get("pack_form") or PackForm(prefix="pack"),
        "code_form": forms.get("code_form") or PromotionCodeForm(prefix="code"),
        "settings_form": forms.get("settings_form")
        or BillingSettingsForm(
            prefix="settings",
            initial={
                "memberships_required": settings_row.memberships_required,
                "drop_in_price": to_major(settings_row.drop_in_price, selectors.gym_currency())
                if settings_row.drop_in_price is not None
                else None,
                "drop_in_valid_days": settings_row.drop_in_valid_days,
                "dunning_block_days": settings_row.dunning_block_days,
                "dunning_suspend_days": settings_row.dunning_suspend_days,
                **{
                    name: to_major(getattr(settings_row, name), selectors.gym_currency())
                    for name in ("late_cancel_fee", "no_show_fee")
                    if getattr(settings_row, name)
                },
            },
        ),
    }


@role_required(*SELLERS)
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/catalogue.html", _catalogue_context(request))


def _catalogue_post(
    request: HttpRequest, form_class: type, prefix: str, save: Callable[[Any], Any], done: str
) -> HttpResponse:
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        data = form.service_fields() if hasattr(form, "service_fields") else form.cleaned_data
        try:
            save(data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return HttpResponseRedirect(reverse("billing:catalogue"))
    context = _catalogue_context(request, **{f"{prefix}_form": form})
    return render(request, "billing/catalogue.html", context, status=400)


@role_required(Role.OWNER)
@require_POST
def plan_add(request: HttpRequest) -> HttpResponse:
    return _catalogue_post(
        request,
        PlanForm,
        "plan",
        lambda data: services.plan_create(actor=request.user, **data),
        _("Plan added."),
    )


@role_required(Role.OWNER)
@require_POST
def pack_add(request: HttpRequest) -> HttpResponse:
    def save(data: dict[str, Any]) -> None:
        services.pack_create(actor=request.user, **data)

    return _catalogue_post(request, PackForm, "pack", save, _("Pack added."))


@role_required(Role.OWNER)
@require_POST
def code_add(request: HttpRequest) -> HttpResponse:
    def save(data: dict[str, Any]) -> None:
        services.promotion_code_create(actor=request.user, **data)

    return _catalogue_post(request, PromotionCodeForm, "code", save, _("Promotion code added."))


@role_required(*MANAGERS)
@require_POST
def settings_save(request: HttpRequest) -> HttpResponse:
    def save(data: dict[str, Any]) -> None:
        services.billing_settings_update(actor=request.user, **data)

    return _catalogue_post(
        request, BillingSettingsForm, "settings", save, _("Billing settings saved.")
    )


@role_required(Role.OWNER)
@require_POST
def plan_archive(request: HttpRequest, pk: int) -> HttpResponse:
    services.plan_archive(actor=request.user, plan=get_object_or_404(MembershipPlan, pk=pk))
    messages.success(request, _("Plan archived: no longer sold."))
    return HttpResponseRedirect(reverse("billing:catalogue"))


@role_required(Role.OWNER)
@require_POST
def pack_archive(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.pack_archive(actor=request.user, pack=get_object_or_404(Pack, pk=pk))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Pack archived: no longer sold."))
    return HttpResponseRedirect(reverse("billing:catalogue"))


@role_required(Role.OWNER)
@require_POST
def code_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    code = get_object_or_404(PromotionCode, pk=pk)
    services.promotion_code_update(actor=request.user, promotion_code=code, active=not code.active)
    return HttpResponseRedirect(reverse("billing:catalogue"))


@role_required(*SELLERS)
@require_GET
def failed_payments(request: HttpRequest) -> HttpResponse:
    memberships = selectors.failed_payments(viewer=request.user)[:200]
    fees = selectors.failed_fees(viewer=request.user)[:200]
    return render(
        request,
        "billing/failed_payments.html",
        {"memberships": memberships, "fees": fees, "collect_form": CollectFeeForm(prefix="fee")},
    )


@role_required(*SELLERS)
@require_POST
def fee_collect(request: HttpRequest, pk: int) -> HttpResponse:
    """The desk took an unpaid fee in cash or by transfer."""
    payment = get_object_or_404(selectors.failed_fees(viewer=request.user), pk=pk)
    form = CollectFeeForm(request.POST, prefix="fee")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        try:
            services.fee_collect_offline(
                actor=request.user, payment=payment, kind=form.cleaned_data["kind"]
            )
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [])) or str(error))
        else:
            messages.success(request, _("Fee recorded as paid."))
    return HttpResponseRedirect(reverse("billing:failed_payments"))


# --- A client's "Membership & payments" -----------------------------------------------------


def _sell(request: HttpRequest, client: Client, form: Any, done: str) -> HttpResponseRedirect:
    """A sale from the profile, however it is paid; a Checkout link sent is shown in the
    message on the profile, for the desk to copy."""
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to(client)
    try:
        sale = services.sale_make(actor=request.user, client=client, **form.cleaned_data)
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(getattr(error, "messages", [])) or str(error) or _("Not allowed.")
        messages.error(request, text)
    else:
        if sale.checkout_url:
            # Shown once on the profile (billing's template tag), for the desk to copy.
            request.session[CHECKOUT_LINK_KEY] = {"client": client.pk, "url": sale.checkout_url}
            messages.success(request, _("Checkout link sent to the client."))
        else:
            messages.success(request, done)
    return _back_to(client)


@role_required(*SELLERS)
@require_POST
def sell_plan(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    return _sell(request, client, SellPlanForm(request.POST, prefix="plan"), _("Membership sold."))


@role_required(*SELLERS)
@require_POST
def sell_pack(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    return _sell(request, client, SellPackForm(request.POST, prefix="pack"), _("Pack sold."))


@role_required(*SELLERS)
@require_POST
def record_payment(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    return _submit(
        request,
        client,
        RecordPaymentForm(request.POST, prefix="pay"),
        partial(services.payment_record_offline, actor=request.user, client=client),
        _("Payment recorded."),
    )


@role_required(*MANAGERS)
@require_POST
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.select_related("client"), pk=pk)
    client = _client_or_404(request.user, payment.client_id)
    return _submit(
        request,
        client,
        RefundForm(request.POST, prefix="refund"),
        partial(services.payment_refund, actor=request.user, payment=payment),
        _("Refund recorded."),
    )


# Each action on a membership: its form (None: nothing to fill in), service and message.
MEMBERSHIP_ACTIONS = {
    "pause": (PauseForm, services.membership_pause, gettext_lazy("Membership paused.")),
    "resume": (None, services.membership_resume, gettext_lazy("Membership resumed.")),
    "cancel": (CancelForm, services.membership_cancel, gettext_lazy("Membership cancelled.")),
}


@role_required(*MANAGERS)
@require_POST
def membership_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("client"), pk=pk)
    client = _client_or_404(request.user, membership.client_id)
    if action not in MEMBERSHIP_ACTIONS:
        raise Http404
    form_class, service, done = MEMBERSHIP_ACTIONS[action]
    return _submit(
        request,
        client,
        form_class(request.POST, prefix=action) if form_class else None,
        partial(service, actor=request.user, membership=membership),
        done,
    )


# --- Portal --------------------------------------------------------------------------------


def _portal_page(
    request: HttpRequest, client: Client, buy_form: PortalBuyForm, status: int = 200
) -> HttpResponse:
    client_status = selectors.billing_status_for([client.pk])[client.pk]
    response = render(
        request,
        "billing/portal_memberships.html",
        {
            "client": client,
            "status": client_status,
            "memberships": selectors.memberships_of(viewer=request.user, client=client)[:5],
            "credits": selectors.credits_of(viewer=request.user, client=client).filter(
                remaining__gt=0
            ),
            "payments": selectors.ledger_of(viewer=request.user, client=client)[:20],
            "plans": selectors.plan_list(),
            # The drop-in has its own line (bought as any pack is).
            "packs": selectors.pack_list().filter(is_drop_in=False),
            "drop_in": selectors.drop_in_pack(),
            "drop_in_price": selectors.billing_settings().drop_in_price,
            "online": selectors.stripe_ready(),
            "buy_form": buy_form,
        },
        status=status,
    )
    # The Buy and Cards forms post to views that redirect to Stripe's hosted Checkout and
    # Customer Portal: CSP's form-action applies to those redirects too.
    response._csp_update = {  # type: ignore[attr-defined]
        "form-action": [settings.STRIPE_CHECKOUT_ORIGIN, settings.STRIPE_BILLING_PORTAL_ORIGIN]
    }
    return response


@client_required
@require_GET
def portal_memberships(request: HttpRequest) -> HttpResponse:
    """What the client holds, their payments, and what they can buy."""
    client = Client.objects.filter(user=request.user).first()
    if client is None:
        raise Http404
    return _portal_page(request, client, PortalBuyForm())


@client_required
@require_POST
def portal_buy(request: HttpRequest) -> HttpResponse:
    """Buy a plan or a pack, with a promotion code if typed: off to Stripe's hosted Checkout
    (no card data touches us); the webhook that follows gives the membership or the credits.
    A code we refuse is a 400 with the page and the error on the code's field."""
    client = Client.objects.filter(user=request.user).first()
    back = reverse("portal:memberships")
    form = PortalBuyForm(request.POST)
    if client is None:
        raise Http404
    if not form.is_valid():
        if form.has_error("plan") or form.has_error("pack"):
            raise Http404
        return _portal_page(request, client, form, status=400)
    plan = selectors.plan_list().filter(pk=form.cleaned_data["plan"]).first()
    pack = None if plan else selectors.pack_list().filter(pk=form.cleaned_data["pack"]).first()
    if (plan or pack) is None:
        raise Http404
    page = request.build_absolute_uri(back)
    try:
        session = services.checkout_start(
            client=client,
            plan=plan,
            pack=pack,
            promotion_code=form.cleaned_data["promotion_code"],
            success_url=f"{page}?paid=1",
            cancel_url=page,
        )
    except ValidationError as error:
        if "promotion_code" in error.error_dict:
            add_service_errors(form, error)
            return _portal_page(request, client, form, status=400)
        codes = {e.code for e in error.error_dict.get("payment_kind", [])}
        if "not_online" in codes:
            messages.error(request, _("This cannot be bought online yet: ask at the desk."))
        else:
            messages.error(
                request, _("Online payment is not available right now: try again later.")
            )
        return HttpResponseRedirect(back)
    return HttpResponseRedirect(session.url, status=303)


@client_required
@require_POST
def portal_cards(request: HttpRequest) -> HttpResponse:
    """Off to Stripe's Customer Portal, where the client updates their card and reads their
    invoices (no card data touches us)."""
    client = Client.objects.filter(user=request.user).first()
    if client is None:
        raise Http404
    back = reverse("portal:memberships")
    try:
        url = services.customer_portal_start(
            client=client, return_url=request.build_absolute_uri(back)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(back)
    return HttpResponseRedirect(url, status=303)

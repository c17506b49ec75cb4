"""Campaign pages for owners and managers (list, audience editor with a live count, campaign
editor with preview, test send, send now or later, figures), and the two public links in
campaign mail: unsubscribe (RFC 8058 one-click included) and tracked clicks. Thin: services
decide, selectors read."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_replace
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.campaigns import selectors, services
from apps.campaigns.forms import CampaignForm, ScheduleForm, SegmentForm
from apps.campaigns.links import BadLinkError, read_click_token, read_unsubscribe_token
from apps.campaigns.models import Campaign, CampaignChannel, Segment
from apps.core.forms import add_service_errors
from apps.core.htmx import is_partial
from apps.tenants.selectors import current_gym, gym_zone

MANAGERS = (Role.OWNER, Role.MANAGER)


def _campaign_or_404(request: HttpRequest, pk: int) -> Campaign:
    try:
        return selectors.campaign_get(viewer=request.user, pk=pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


def _segment_or_404(request: HttpRequest, pk: int) -> Segment:
    try:
        return selectors.segment_get(viewer=request.user, pk=pk)
    except Segment.DoesNotExist:
        raise Http404 from None


@role_required(*MANAGERS)
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "campaigns/campaign_list.html",
        {
            "campaigns": selectors.campaign_list(viewer=request.user)[:200],
            "segments": selectors.segment_list(viewer=request.user)[:200],
        },
    )


# --- Audiences --------------------------------------------------------------------------------


def _audience_count(definition: dict[str, Any], channel: str) -> int:
    return selectors.segment_clients(definition, channel=channel).count()


@role_required(*MANAGERS)
@require_GET
def segment_count(request: HttpRequest) -> HttpResponse:
    """The live count on the audience editor (HTMX): the form's rules as they stand."""
    form = SegmentForm(request.GET)
    form.is_valid()
    count = errors = None
    if not any(name != "name" for name in form.errors):
        try:
            count = _audience_count(form.definition, CampaignChannel.EMAIL)
        except ValidationError as error:
            errors = error.messages
    else:
        errors = [e for name, errs in form.errors.items() if name != "name" for e in errs]
    return render(request, "campaigns/_audience_count.html", {"count": count, "errors": errors})


def _segment_form_page(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    if request.method == "POST":
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                if segment is None:
                    segment = services.segment_create(
                        actor=request.user,
                        name=form.cleaned_data["name"],
                        definition=form.definition,
                    )
                    messages.success(request, _("Audience saved."))
                else:
                    services.segment_update(
                        actor=request.user,
                        segment=segment,
                        name=form.cleaned_data["name"],
                        definition=form.definition,
                    )
                    messages.success(request, _("Audience updated."))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return HttpResponseRedirect(reverse("campaigns:segment_edit", args=[segment.pk]))
        status = 400
    else:
        form = SegmentForm(segment=segment)
        status = 200
    count = None
    if segment is not None and request.method == "GET":
        count = _audience_count(segment.definition, CampaignChannel.EMAIL)
    return render(
        request,
        "campaigns/segment_form.html",
        {"form": form, "segment": segment, "count": count},
        status=status,
    )


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def segment_create(request: HttpRequest) -> HttpResponse:
    return _segment_form_page(request, None)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _segment_form_page(request, _segment_or_404(request, pk))


@role_required(*MANAGERS)
@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment_or_404(request, pk)
    try:
        services.segment_delete(actor=request.user, segment=segment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(reverse("campaigns:segment_edit", args=[pk]))
    messages.success(request, _("Audience deleted."))
    return HttpResponseRedirect(reverse("campaigns:list"))


# --- Campaigns --------------------------------------------------------------------------------


@role_required(*MANAGERS)
@require_GET
def audience_count(request: HttpRequest) -> HttpResponse:
    """The campaign editor's live count (HTMX): recipients of the chosen audience and channel."""
    count = errors = None
    segment_id = request.GET.get("segment", "")
    channel = request.GET.get("channel") or CampaignChannel.EMAIL
    if channel not in CampaignChannel.values:
        errors = [_("Unknown channel.")]
    elif segment_id.isdigit():
        segment = selectors.segment_list(viewer=request.user).filter(pk=int(segment_id)).first()
        if segment is not None:
            count = _audience_count(segment.definition, channel)
    return render(request, "campaigns/_audience_count.html", {"count": count, "errors": errors})


def _editor_context(request: HttpRequest, campaign: Campaign | None, **extra: Any) -> dict:
    context: dict[str, Any] = {"campaign": campaign, "schedule_form": ScheduleForm(), **extra}
    if campaign is not None:
        context["count"] = (
            _audience_count(campaign.segment.definition, campaign.channel)
            if campaign.is_editable
            else None
        )
        if not campaign.is_editable:
            context["figures"] = selectors.campaign_figures(campaign)
        context["zone"] = gym_zone()
        context["sms_estimate"] = _sms_estimate(campaign, context.get("count"))
    return context


def _sms_estimate(campaign: Campaign, count: int | None) -> Any:
    """Segments per message and the estimated cost before an SMS campaign goes out."""
    if campaign.channel != CampaignChannel.SMS or count is None:
        return None
    from apps.sms.gateway import cost_estimate

    return cost_estimate(services.sms_sample_text(campaign), recipients=count)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Campaign saved as a draft."))
            return HttpResponseRedirect(reverse("campaigns:edit", args=[campaign.pk]))
    return render(
        request,
        "campaigns/campaign_form.html",
        _editor_context(request, None, form=form),
        status=400 if request.method == "POST" else 200,
    )


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.campaign_update(
                    actor=request.user, campaign=campaign, **form.service_fields()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Campaign saved."))
                return HttpResponseRedirect(reverse("campaigns:edit", args=[pk]))
        campaign.refresh_from_db()
        return render(
            request,
            "campaigns/campaign_form.html",
            _editor_context(request, campaign, form=form),
            status=400,
        )
    return render(
        request, "campaigns/campaign_form.html", _editor_context(request, campaign, form=form)
    )


# The preview is the mail itself: inline styles (mail clients ignore stylesheets) and remote
# images, shown in a sandboxed frame of the editor that may run nothing.
@role_required(*MANAGERS)
@require_GET
@xframe_options_sameorigin
@csp_replace(
    {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["'self'", "https:", "data:"],
        "frame-ancestors": ["'self'"],
        "sandbox": [""],
        "script-src": ["'none'"],
        "form-action": ["'none'"],
    }
)
def campaign_preview(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    if campaign.channel == CampaignChannel.SMS:
        from django.utils.html import escape, linebreaksbr

        body = linebreaksbr(escape(campaign.body))
        return HttpResponse(f"<!doctype html><meta charset='utf-8'><p>{body}</p>")
    try:
        mail = services.campaign_preview(campaign=campaign)
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain")
    return HttpResponse(mail.html)


def _campaign_action(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    try:
        action(campaign)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(reverse("campaigns:edit", args=[pk]), status=303)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("campaigns:edit", args=[pk]), status=303)


@role_required(*MANAGERS)
@require_POST
def campaign_test(request: HttpRequest, pk: int) -> HttpResponse:
    sent_to: list[str] = []

    def action(campaign: Campaign) -> None:
        sent_to.append(services.campaign_test_send(actor=request.user, campaign=campaign))

    campaign = _campaign_or_404(request, pk)
    try:
        action(campaign)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Test sent to %(email)s.") % {"email": sent_to[0]})
    return HttpResponseRedirect(reverse("campaigns:edit", args=[pk]), status=303)


@role_required(*MANAGERS)
@require_POST
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(
        request,
        pk,
        lambda c: services.campaign_send_now(actor=request.user, campaign=c),
        _("Sending has started."),
    )


@role_required(*MANAGERS)
@require_POST
def campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            services.campaign_schedule(
                actor=request.user, campaign=campaign, send_at=form.cleaned_data["send_at"]
            )
        except ValidationError as error:
            add_service_errors(form, error, aliases={"scheduled_at": "send_at"})
        else:
            messages.success(request, _("Campaign scheduled."))
            return HttpResponseRedirect(reverse("campaigns:edit", args=[pk]), status=303)
    return render(
        request,
        "campaigns/campaign_form.html",
        _editor_context(
            request, campaign, form=CampaignForm(instance=campaign), schedule_form=form
        ),
        status=400,
    )


@role_required(*MANAGERS)
@require_POST
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(
        request,
        pk,
        lambda c: services.campaign_cancel(actor=request.user, campaign=c),
        _("Campaign cancelled."),
    )


@role_required(*MANAGERS)
@require_GET
def campaign_figures(request: HttpRequest, pk: int) -> HttpResponse:
    """The figures panel, refreshed by HTMX while a campaign sends."""
    campaign = _campaign_or_404(request, pk)
    if not is_partial(request):
        return HttpResponseRedirect(reverse("campaigns:edit", args=[pk]))
    return render(
        request,
        "campaigns/_figures.html",
        {"campaign": campaign, "figures": selectors.campaign_figures(campaign)},
    )


# --- The links in campaign mail (public: no login) ----------------------------------------------


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/bad_link.html", status=400)


@csrf_exempt  # RFC 8058: the mail provider POSTs without any cookie or token of ours
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (a link checker opening the URL must not unsubscribe anyone); POST
    unsubscribes, from the page's button or a mail client's one-click
    (`List-Unsubscribe=One-Click`)."""
    try:
        target = read_unsubscribe_token(token)
    except BadLinkError:
        return _bad_link(request)
    context = {"gym": current_gym(), "token": token}
    if request.method == "POST":
        services.unsubscribe_record(target=target)
        return render(request, "campaigns/unsubscribed.html", context)
    return render(request, "campaigns/unsubscribe.html", context)


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Count the click, then go where the campaign's author linked (signed: nowhere else)."""
    try:
        target = read_click_token(token)
    except BadLinkError:
        return _bad_link(request)
    services.click_record(target=target)
    return HttpResponseRedirect(target.url)

"""Messaging pages: the staff inbox (/messages/) and the portal's Messages (/portal/messages/).

One set of partials serves both (a list, a thread, its messages); HTMX swaps them and
static/messaging/thread.js asks for them again when the socket announces something
(static/messaging/live.js). Thin views: reads through apps.messaging.selectors (a conversation
the viewer may not read is a 404), writes through apps.messaging.services. Opening a thread
marks it read, as a messaging app does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import STAFF_ROLES, User
from apps.core.forms import add_service_errors
from apps.core.htmx import is_partial
from apps.crm.models import Client
from apps.crm.selectors import client_for_user
from apps.messaging import selectors, services
from apps.messaging.api.serializers import conversation_title
from apps.messaging.forms import GroupForm, MessageForm
from apps.messaging.models import Conversation, Kind, Message

# Messages a thread shows at once; earlier ones a page at a time.
THREAD_PAGE = 50
INBOX_PAGE = 100
SEARCH_RESULTS = 8


class Place:
    """Staff pages or the portal's: which URLs and templates a view uses."""

    def __init__(self, *, portal: bool) -> None:
        self.portal = portal
        self.prefix = "portal:messaging_" if portal else "messaging:"

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"{self.prefix}{name}", args=args or None)

    def page_template(self) -> str:
        return "messaging/portal_inbox.html" if self.portal else "messaging/inbox.html"


STAFF = Place(portal=False)
PORTAL = Place(portal=True)


def _viewer(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _conversation_or_404(viewer: User, pk: int) -> Conversation:
    try:
        return selectors.conversation_get(viewer=viewer, pk=pk)
    except Conversation.DoesNotExist as exc:
        raise Http404 from exc


def _conversations(viewer: User) -> list[Conversation]:
    rows = list(selectors.inbox(viewer=viewer)[:INBOX_PAGE])
    for conversation in rows:
        conversation.display_title = conversation_title(conversation, viewer)  # type: ignore[attr-defined]
    return rows


def _thread_messages(
    viewer: User, conversation: Conversation, before: int | None
) -> dict[str, Any]:
    rows = selectors.message_list(viewer=viewer, conversation=conversation).order_by("-id")
    if before:
        rows = rows.filter(id__lt=before)
    page = list(rows[: THREAD_PAGE + 1])
    has_earlier = len(page) > THREAD_PAGE
    page = list(reversed(page[:THREAD_PAGE]))
    window = services.edit_window()
    now = timezone.now()
    positions = [
        p
        for p in selectors.read_positions(conversation=conversation)
        if not (p.user_id == viewer.pk or (p.client_id and p.client.user_id == viewer.pk))  # type: ignore[union-attr]
    ]
    seen_up_to = max((p.last_read_message_id for p in positions), default=0)
    for message in page:
        message.mine = message.sender_user_id == viewer.pk  # type: ignore[attr-defined]
        message.changeable = (  # type: ignore[attr-defined]
            message.mine and message.deleted_at is None and now - message.created_at <= window  # type: ignore[attr-defined]
        )
    last_mine = next((m for m in reversed(page) if m.mine), None)  # type: ignore[attr-defined]
    return {
        "thread_messages": page,
        "has_earlier": has_earlier,
        "earliest_id": page[0].pk if page else None,
        "seen_message_id": last_mine.pk if last_mine and last_mine.pk <= seen_up_to else None,
    }


def _thread_context(
    request: HttpRequest, conversation: Conversation, place: Place, form: MessageForm | None = None
) -> dict[str, Any]:
    viewer = _viewer(request)
    before = request.GET.get("before", "")
    services.mark_read(viewer=viewer, conversation=conversation)
    participant = selectors.participant_for(viewer=viewer, conversation=conversation)
    return {
        "conversation": conversation,
        "title": conversation_title(conversation, viewer),
        "place": place,
        "form": form or MessageForm(),
        "muted": bool(participant and participant.muted),
        "urls": {
            "send": place.url("send", conversation.pk),
            "mute": place.url("mute", conversation.pk),
            "messages": place.url("messages", conversation.pk),
            "thread": place.url("thread", conversation.pk),
            "inbox": place.url("inbox"),
            "list": place.url("list"),
        },
        **_thread_messages(viewer, conversation, int(before) if before.isdigit() else None),
    }


def _page(
    request: HttpRequest, place: Place, conversation: Conversation | None = None, **extra: Any
) -> HttpResponse:
    viewer = _viewer(request)
    context: dict[str, Any] = {"place": place, "selected": conversation, **extra}
    if conversation is not None:
        context.update(_thread_context(request, conversation, place, extra.get("form")))
    # After marking read: the list shows this conversation read.
    context["conversations"] = _conversations(viewer)
    context["list_url"] = place.url("list")
    if not place.portal:
        context["search_url"] = place.url("client_search")
        context["start_url"] = place.url("start")
        context["group_url"] = place.url("group_new")
    else:
        context.update(_portal_starts(viewer))
    return render(request, place.page_template(), context, status=400 if extra.get("form") else 200)


def _portal_starts(viewer: User) -> dict[str, Any]:
    """The conversations a client can start from the portal: the gym, and each trainer of
    theirs they have no conversation with yet."""
    client = client_for_user(viewer)
    if client is None:
        return {"starts": []}
    existing = set(selectors.conversation_list(viewer=viewer).values_list("kind", "trainer_id"))
    starts = []
    if (Kind.GYM, None) not in existing:
        starts.append({"trainer": "", "label": _("Message the gym")})
    for trainer in selectors.client_trainers(client=client):
        if (Kind.TRAINER, trainer.pk) not in existing:
            name = trainer.get_full_name() or trainer.email
            starts.append({"trainer": trainer.pk, "label": _("Message %(name)s") % {"name": name}})
    return {"starts": starts, "start_url": PORTAL.url("start")}


# --- Shared views ---------------------------------------------------------------------------


def _thread(request: HttpRequest, pk: int, place: Place) -> HttpResponse:
    conversation = _conversation_or_404(_viewer(request), pk)
    if is_partial(request):
        return render(
            request, "messaging/_thread.html", _thread_context(request, conversation, place)
        )
    return _page(request, place, conversation)


def _messages(request: HttpRequest, pk: int, place: Place) -> HttpResponse:
    conversation = _conversation_or_404(_viewer(request), pk)
    return render(
        request, "messaging/_messages.html", _thread_context(request, conversation, place)
    )


def _list(request: HttpRequest, place: Place) -> HttpResponse:
    return render(
        request,
        "messaging/_conversation_list.html",
        {
            "conversations": _conversations(_viewer(request)),
            "place": place,
            "selected_id": _int(request.GET.get("selected")),
        },
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _send(request: HttpRequest, pk: int, place: Place) -> HttpResponse:
    viewer = _viewer(request)
    conversation = _conversation_or_404(viewer, pk)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data.get("attachment")
        try:
            services.post_message(
                conversation=conversation,
                sender_user=viewer,
                body=form.cleaned_data["body"],
                attachment=upload,
                attachment_name=getattr(upload, "name", ""),
                attachment_size=getattr(upload, "size", None),
            )
        except ValidationError as exc:
            form.add_error(
                "attachment" if "attachment" in getattr(exc, "message_dict", {}) else "body",
                " ".join(exc.messages),
            )
        except PermissionDenied as exc:
            form.add_error("body", str(exc))
        else:
            if is_partial(request):
                conversation.refresh_from_db()
                return render(
                    request, "messaging/_thread.html", _thread_context(request, conversation, place)
                )
            return HttpResponseRedirect(place.url("thread", conversation.pk))
    if is_partial(request):
        context = _thread_context(request, conversation, place, form)
        return render(request, "messaging/_thread.html", context, status=400)
    return _page(request, place, conversation, form=form)


def _message_or_404(viewer: User, pk: int) -> Message:
    try:
        return selectors.message_get(viewer=viewer, pk=pk)
    except Message.DoesNotExist as exc:
        raise Http404 from exc


def _change(request: HttpRequest, pk: int, place: Place, *, delete: bool) -> HttpResponse:
    viewer = _viewer(request)
    message = _message_or_404(viewer, pk)
    try:
        if delete:
            services.message_delete(actor=viewer, message=message)
        else:
            services.message_edit(actor=viewer, message=message, body=request.POST.get("body", ""))
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        flash.error(request, str(exc) or _("You can only change your own messages."))
    conversation = _conversation_or_404(viewer, message.conversation_id)
    if is_partial(request):
        return render(
            request, "messaging/_thread.html", _thread_context(request, conversation, place)
        )
    return HttpResponseRedirect(place.url("thread", conversation.pk))


def _mute(request: HttpRequest, pk: int, place: Place) -> HttpResponse:
    viewer = _viewer(request)
    conversation = _conversation_or_404(viewer, pk)
    muted = request.POST.get("muted", "")
    if muted not in ("0", "1"):
        return HttpResponse(_("Say muted=1 or muted=0."), status=400)
    services.conversation_mute(viewer=viewer, conversation=conversation, muted=muted == "1")
    if is_partial(request):
        return render(
            request, "messaging/_thread.html", _thread_context(request, conversation, place)
        )
    return HttpResponseRedirect(place.url("thread", conversation.pk))


# --- Staff ----------------------------------------------------------------------------------

staff_only = role_required(*STAFF_ROLES)


@staff_only
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return _page(request, STAFF)


@staff_only
@require_GET
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    return _thread(request, pk, STAFF)


@staff_only
@require_GET
def thread_messages(request: HttpRequest, pk: int) -> HttpResponse:
    return _messages(request, pk, STAFF)


@staff_only
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    return _list(request, STAFF)


@staff_only
@require_POST
def send(request: HttpRequest, pk: int) -> HttpResponse:
    return _send(request, pk, STAFF)


@staff_only
@require_POST
def message_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, STAFF, delete=False)


@staff_only
@require_POST
def message_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, STAFF, delete=True)


@staff_only
@require_GET
def client_search(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()[:100]
    clients: list[Client] = []
    if term:
        clients = list(
            selectors.messageable_clients(viewer=_viewer(request), search=term)[:SEARCH_RESULTS]
        )
    return render(
        request,
        "messaging/_client_results.html",
        {"clients": clients, "term": term, "start_url": STAFF.url("start")},
    )


@staff_only
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    client = (
        selectors.messageable_clients(viewer=viewer)
        .filter(pk=_int(request.POST.get("client")) or 0)
        .first()
    )
    if client is None:
        raise Http404
    try:
        conversation = services.conversation_open(actor=viewer, client=client)
    except (ValidationError, PermissionDenied) as exc:
        flash.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return HttpResponseRedirect(STAFF.url("inbox"))
    return HttpResponseRedirect(STAFF.url("thread", conversation.pk))


@staff_only
@require_POST
def mute(request: HttpRequest, pk: int) -> HttpResponse:
    return _mute(request, pk, STAFF)


@staff_only
def group_new(request: HttpRequest) -> HttpResponse:
    """Start a group: a class's clients, the clients with a tag, or colleagues only."""
    viewer = _viewer(request)
    if request.method == "POST":
        form = GroupForm(request.POST, viewer=viewer)
        if form.is_valid():
            data = form.cleaned_data
            try:
                conversation = services.group_create(
                    actor=viewer,
                    kind=data["kind"],
                    title=data["title"],
                    users=list(data.get("users") or []),
                    clients=data["clients"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if form.left_out:
                    flash.info(
                        request,
                        ngettext(
                            "%(count)d client of the class is not yours to message and was "
                            "left out.",
                            "%(count)d clients of the class are not yours to message and were "
                            "left out.",
                            form.left_out,
                        )
                        % {"count": form.left_out},
                    )
                return HttpResponseRedirect(STAFF.url("thread", conversation.pk))
    else:
        form = GroupForm(viewer=viewer)
    return render(
        request,
        "messaging/group_form.html",
        {"form": form, "inbox_url": STAFF.url("inbox")},
        status=400 if form.errors else 200,
    )


# --- Portal ---------------------------------------------------------------------------------


def _client_only(view: Any) -> Any:
    from apps.portal.views import client_required

    return client_required(view)


@_client_only
@require_GET
def portal_inbox(request: HttpRequest) -> HttpResponse:
    return _page(request, PORTAL)


@_client_only
@require_GET
def portal_thread(request: HttpRequest, pk: int) -> HttpResponse:
    return _thread(request, pk, PORTAL)


@_client_only
@require_GET
def portal_thread_messages(request: HttpRequest, pk: int) -> HttpResponse:
    return _messages(request, pk, PORTAL)


@_client_only
@require_GET
def portal_conversation_list(request: HttpRequest) -> HttpResponse:
    return _list(request, PORTAL)


@_client_only
@require_POST
def portal_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _send(request, pk, PORTAL)


@_client_only
@require_POST
def portal_message_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, PORTAL, delete=False)


@_client_only
@require_POST
def portal_message_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, PORTAL, delete=True)


@_client_only
@require_POST
def portal_mute(request: HttpRequest, pk: int) -> HttpResponse:
    return _mute(request, pk, PORTAL)


@_client_only
@require_POST
def portal_start(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    trainer = None
    trainer_id = _int(request.POST.get("trainer"))
    if trainer_id is not None:
        client = client_for_user(viewer)
        trainer = (
            selectors.client_trainers(client=client).filter(pk=trainer_id).first()
            if client
            else None
        )
        if trainer is None:
            raise Http404
    try:
        conversation = services.conversation_open(actor=viewer, trainer=trainer)
    except PermissionDenied as exc:
        raise Http404 from exc
    return HttpResponseRedirect(PORTAL.url("thread", conversation.pk))

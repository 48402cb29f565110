"""One-click rating from the reply email: no login, the link itself is the proof (HMAC per reply and
customer). A GET only shows the form, so mail scanners that prefetch links never rate anything."""

from django.http import Http404
from django.shortcuts import render

from .. import services
from ..forms_customer import RatingForm
from ..models import Message
from ..tokens import check_rating_token


def _rated_message(message_pk: int, token: str) -> Message:
    message = (
        Message.objects.select_related("ticket", "author", "rating")
        .filter(pk=message_pk, kind=Message.Kind.REPLY)
        .first()
    )
    if message is None or not check_rating_token(message.pk, message.ticket.customer_id, token):
        raise Http404
    return message


def rate_by_link(request, message_pk: int, token: str):
    message = _rated_message(message_pk, token)
    context = {"message": message, "ticket": message.ticket}
    if request.method != "POST":
        current = getattr(
            message, "rating", None
        )  # the reverse one-to-one raises AttributeError when unrated
        score = request.GET.get("score") or (current.score if current else None)
        form = RatingForm(initial={"score": score, "comment": current.comment if current else ""})
        return render(request, "tickets/customer/rate_link.html", {**context, "form": form})
    form = RatingForm(request.POST)
    if not form.is_valid():
        return render(request, "tickets/customer/rate_link.html", {**context, "form": form}, status=400)
    services.reply_rate(
        message=message,
        customer=message.ticket.customer,
        score=form.cleaned_data["score"],
        comment=form.cleaned_data["comment"],
    )
    return render(request, "tickets/customer/rate_done.html", context)

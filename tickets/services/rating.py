from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..exceptions import TicketError
from ..models import Message, Rating

SCORES = range(1, 6)


class RatingNotAllowed(TicketError):
    default_message = _("Only the ticket's customer can rate an agent's reply, with 1 to 5 stars.")


@transaction.atomic
def reply_rate(*, message: Message, customer, score: int, comment: str = "") -> Rating:
    """The customer's 1-5 rating of one agent reply. Rating again replaces the earlier rating, so a
    click on the mailed link after rating in the cabinet changes it instead of failing."""
    if message.kind != Message.Kind.REPLY or message.ticket.customer_id != customer.pk or score not in SCORES:
        raise RatingNotAllowed
    rating, _created = Rating.objects.update_or_create(
        message=message,
        defaults={
            "score": score,
            "comment": comment.strip()[:2000],
            "department_id": message.department_id or message.ticket.department_id,
            "agent_id": message.author_id,
        },
    )
    return rating

"""The only code that changes ticket state. Views, the API, the mail gateway and tasks all call these."""

from .common import lock_by_numbers
from .conversation import ticket_customer_message, ticket_note, ticket_reply
from .create import ticket_create
from .mail_events import ticket_link_follow_up, ticket_record_mail_event
from .merge import MergeNotAllowed, UnmergeNotAllowed, resolve_merged, ticket_merge, ticket_unmerge
from .participants import ticket_add_participants, ticket_remove_participant
from .rating import RatingNotAllowed, reply_rate
from .split import SplitNotAllowed, ticket_split
from .workflow import (
    ticket_assign,
    ticket_close,
    ticket_rename,
    ticket_reopen,
    ticket_set_priority,
    ticket_set_product,
    ticket_set_status,
    ticket_transfer,
)

__all__ = [
    "MergeNotAllowed",
    "lock_by_numbers",
    "RatingNotAllowed",
    "SplitNotAllowed",
    "UnmergeNotAllowed",
    "reply_rate",
    "ticket_add_participants",
    "ticket_link_follow_up",
    "ticket_record_mail_event",
    "resolve_merged",
    "ticket_assign",
    "ticket_close",
    "ticket_create",
    "ticket_customer_message",
    "ticket_merge",
    "ticket_note",
    "ticket_rename",
    "ticket_reopen",
    "ticket_remove_participant",
    "ticket_reply",
    "ticket_set_priority",
    "ticket_set_product",
    "ticket_set_status",
    "ticket_split",
    "ticket_transfer",
    "ticket_unmerge",
]

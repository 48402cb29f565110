from django.utils.translation import gettext_lazy as _


class TicketError(Exception):
    """A domain rule refused the change; the message is safe to show to the user."""

    default_message = _("This change is not allowed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class AssignmentNotAllowed(TicketError):
    default_message = _("Only an agent of the ticket's department can be assigned.")


class TransferNotAllowed(TicketError):
    default_message = _("The ticket cannot be transferred to that department.")


class AttachmentRejected(TicketError):
    default_message = _("This file type is not allowed.")

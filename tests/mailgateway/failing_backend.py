import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    """A transport that refuses everything, like an SMTP server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({"x": (451, b"refused, try later")})

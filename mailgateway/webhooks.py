"""django-anymail inbound webhooks: the ESP posts the message, we store the raw MIME and process it.

Wired and tested for Mailgun (route action forward("https://<host>/anymail/mailgun/inbound_mime/"),
which posts the untouched MIME as `body-mime`). Other ESPs anymail supports work the same way: their
event's message is re-serialised with as_bytes().
"""

from anymail.signals import inbound
from django.dispatch import receiver

from .services import receive


def raw_mime(event) -> bytes:
    request = event.esp_event
    post = getattr(request, "POST", None)
    if post is not None and "body-mime" in post:
        return post["body-mime"].encode("utf-8", "surrogateescape")
    return event.message.as_bytes()


@receiver(inbound, dispatch_uid="mailgateway.inbound")
def handle_inbound(sender, event, esp_name, **kwargs):
    # Storing commits before anymail answers 200: if this raises, the ESP gets an error and retries.
    receive(raw_mime(event), source=f"webhook:{esp_name.lower()}"[:50])

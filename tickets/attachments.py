"""Attachment checks: the type is sniffed from the content (python-magic), never trusted from the name."""

from dataclasses import dataclass

import magic
from django.conf import settings
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .exceptions import AttachmentRejected
from .models import Attachment, Message

# What a file named like this must really contain; a mismatch means a disguised file.
EXTENSION_TYPES = {
    "png": "image/png",
    "gif": "image/gif",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "log": "text/plain",
}


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    data: bytes
    content_id: str = ""
    is_inline: bool = False


def sniff(data: bytes) -> str:
    return magic.from_buffer(data[:65536], mime=True) or "application/octet-stream"


def check_file(filename: str, data: bytes) -> str:
    """The sniffed content type if the file is acceptable, else AttachmentRejected with the reason."""
    limit = settings.HELPDESK_ATTACHMENT_MAX_BYTES
    if len(data) > limit:
        raise AttachmentRejected(
            _("%(name)s is larger than %(limit)s.") % {"name": filename, "limit": filesizeformat(limit)}
        )
    content_type = sniff(data)
    allowed = settings.HELPDESK_ATTACHMENT_TYPES
    if content_type not in allowed:
        raise AttachmentRejected(
            _("%(name)s is not an allowed file type (%(type)s).") % {"name": filename, "type": content_type}
        )
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    expected = EXTENSION_TYPES.get(ext)
    if expected and expected != content_type:
        raise AttachmentRejected(
            _("%(name)s is named like %(expected)s but contains %(type)s.")
            % {"name": filename, "expected": expected, "type": content_type}
        )
    return content_type


def store_attachment(message: Message, incoming: IncomingFile, content_type: str) -> Attachment:
    """Save already-checked bytes under their content hash; identical files share one stored copy."""
    digest = Attachment.hash_bytes(incoming.data)
    existing = Attachment.objects.filter(sha256=digest).only("file").first()
    att = Attachment(
        message=message,
        sha256=digest,
        filename=(incoming.filename or "attachment")[:255],
        content_type=content_type,
        size=len(incoming.data),
        content_id=incoming.content_id,
        is_inline=incoming.is_inline,
    )
    if existing and existing.file.storage.exists(existing.file.name):
        att.file.name = existing.file.name
    else:
        att.file.save(digest, ContentFile(incoming.data), save=False)
    att.save()
    return att

"""Real file bytes for upload tests: the cabinet sniffs content, so names alone prove nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png_bytes(color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, "PNG")
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    # The browser-declared content type is deliberately "image/png" by default: it must not matter.
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def english(world):
    """Cabinet tests read English UI text: once Russian translations exist, Ivan (language "ru") would
    see Russian pages, so tests that compare wording switch him to English. Import it into a module."""
    world.customer.language = "en"
    world.customer.save(update_fields=["language"])
    return world

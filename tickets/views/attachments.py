from django.contrib.auth.decorators import login_required
from django.http import FileResponse

from ..selectors import attachment_for_user


@login_required
def download(request, pk: int, filename: str = ""):
    """Files are served only through this permission check, never from a public media URL."""
    attachment = attachment_for_user(user=request.user, pk=pk)
    inline = attachment.is_image or attachment.content_type == "application/pdf"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,  # Django writes RFC 6266 filename* for non-ASCII names
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

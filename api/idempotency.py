"""Idempotency-Key on POST: a client that retries after a timeout gets the first response again (with
`Idempotent-Replayed: true`) instead of a second ticket or reply. Keys are per user and kept 24 hours;
the same key with a different request is refused (422)."""

from functools import wraps

from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from . import services
from .errors import error_response

HEADER = "Idempotency-Key"


def idempotent(handler):
    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > 255:
            return error_response(400, "invalid_idempotency_key", _("The Idempotency-Key is longer than 255 characters."))
        print_ = services.fingerprint(request.method, request.path, _body(request))
        try:
            done = services.idempotency_begin(user=request.user, key=key, fingerprint=print_)
        except services.IdempotencyConflict as exc:
            return _conflict(exc.reason)
        if done is not None:
            response = Response(done.response, status=done.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception:
            services.idempotency_abandon(user=request.user, key=key)
            raise
        if response.status_code >= 500:
            services.idempotency_abandon(user=request.user, key=key)
        else:
            services.idempotency_finish(
                user=request.user, key=key, status_code=response.status_code, response=response.data
            )
        return response

    return wrapper


def _body(request) -> bytes:
    try:
        return request.body
    except RawPostDataException:
        # Multipart already parsed (CSRF check of a session request): fingerprint what was parsed.
        data = sorted((k, v) for k, v in request.POST.lists())
        files = sorted((k, f.name, f.size) for k, fs in request.FILES.lists() for f in fs)
        return repr((data, files)).encode()


def _conflict(reason: str):
    if reason == "mismatch":
        return error_response(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
        )
    return error_response(
        status.HTTP_409_CONFLICT,
        "idempotency_in_progress",
        _("A request with this Idempotency-Key is still being processed; retry later."),
    )

"""One error shape for every failure:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"subject": ["..."]}}}

`fields` is present for validation errors only. Domain refusals (tickets.exceptions.TicketError) become
409 with code "not_allowed"; anything the user may not see is 404, as in the web UI."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tickets.exceptions import TicketError


class NotAllowed(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_allowed"


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    body = {"status": status_code, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def exception_handler(exc, context):
    if isinstance(exc, TicketError):
        exc = NotAllowed(force_str(exc.message))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling (and logging) takes over
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _("The request has invalid fields.")
        general = fields.pop("non_field_errors", None)
        if general:
            message = " ".join(general)
        response.data = error_body(response.status_code, "invalid", message, fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(response.status_code, str(code), force_str(detail))
    return response


def _flatten(detail) -> dict:
    if isinstance(detail, list):
        return {"non_field_errors": [force_str(d) for d in detail]}
    out = {}
    for field, errors in detail.items():
        if isinstance(errors, dict):
            for sub, sub_errors in _flatten(errors).items():
                out[f"{field}.{sub}"] = sub_errors
        else:
            items = errors if isinstance(errors, list) else [errors]
            out[field] = [force_str(e) if not isinstance(e, dict) else str(e) for e in items]
    return out


def error_response(status_code: int, code: str, message: str) -> Response:
    return Response(error_body(status_code, code, message), status=status_code)

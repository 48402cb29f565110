from django.http import Http404
from django.utils import translation
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from departments.permissions import is_agent

from ..selectors import api_ticket


class ApiView(GenericAPIView):
    """Base of the API views: parse with a serializer, call one service, answer with a serializer."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A token is authenticated here, after UserPreferencesMiddleware: apply the saved language now, so
        # error messages speak it as the web pages do (Accept-Language applies otherwise).
        if request.user.is_authenticated and request.user.language:
            translation.activate(request.user.language)
            request.LANGUAGE_CODE = request.user.language

    def valid(self, serializer_class, data=None, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data,
                                      context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def ticket(self, number):
        return api_ticket(user=self.request.user, number=number)

    def agent_ticket(self, number):
        """Agent-only actions: a customer gets 404, as on the agent pages."""
        if not is_agent(self.request.user):
            raise Http404
        return self.ticket(number)


def field_error(field: str, message) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})

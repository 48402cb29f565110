import zoneinfo

from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Activate a logged-in user's saved language and time zone (after LocaleMiddleware's browser guess).

    Order of language choice: the user's saved preference, then the language cookie / Accept-Language
    that LocaleMiddleware already applied.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        timezone.deactivate()
        if user.is_authenticated and user.time_zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                pass
        return self.get_response(request)

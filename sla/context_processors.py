from django.utils.functional import SimpleLazyObject

from departments.permissions import is_agent, managed_departments


def sla_nav(request):
    """`manages_departments` for the navigation link to the SLA pages; lazy, so a page that does not
    ask (anyone but an agent) costs no query."""
    user = request.user
    if not (user.is_authenticated and is_agent(user)):
        return {"manages_departments": False}
    return {"manages_departments": SimpleLazyObject(lambda: managed_departments(user).exists())}

from django.utils.functional import SimpleLazyObject

from departments.permissions import is_agent


def sla_nav(request):
    """`manages_departments` for the navigation link to the SLA pages; lazy, so a page that does not
    ask (anyone but an agent) costs nothing, and cached (tickets.page_cache) until a membership changes."""
    user = request.user
    if not (user.is_authenticated and is_agent(user)):
        return {"manages_departments": False}
    from tickets.agent_selectors import manages_departments

    return {"manages_departments": SimpleLazyObject(lambda: manages_departments(user))}

from departments.permissions import is_agent


def helpdesk(request):
    user = request.user
    return {"is_agent": bool(user.is_authenticated and is_agent(user))}

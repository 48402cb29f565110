import time

from django.db import connection


class ServerTimingMiddleware:
    """Adds `Server-Timing: app;dur=<ms>` and `X-Query-Count` to every response.

    Enabled only when HELPDESK_SERVER_TIMING is set (benchmarks measure server-side time and SQL queries per
    request with it); off in normal operation.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        response["X-Query-Count"] = str(queries)
        return response

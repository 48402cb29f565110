"""REST API over HTTP: the ticket list and a 50-message ticket's detail, authenticated with a personal
API token (run by benchmarks/run.py against its gunicorn, like the pages). Same measures as the pages:
server-side time (Server-Timing), client time, requests/s at concurrency 1 and 8, SQL per request."""

from benchmarks import http_load


def prepare(ctx: dict) -> dict:
    """A token for the benchmark agent (Django is set up by run.prepare)."""
    from accounts.models import User
    from api import services
    from api.models import ApiToken

    agent = User.objects.get(email=ctx["agent"])
    ApiToken.objects.filter(user=agent, name="benchmark").delete()
    _token, secret = services.token_create(user=agent, name="benchmark")
    return {"api_token": secret}


def endpoints(ctx: dict) -> dict[str, list[str]]:
    return {
        "api_ticket_list": [f"/api/v1/tickets/?department={ctx['department']}&status=new&status=open&page_size=25"],
        "api_ticket_detail_50_messages": [f"/api/v1/tickets/{ctx['ticket']}/"],
    }


def measure(port: int, ctx: dict, *, requests: int = 200, targets: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {ctx['api_token']}", "Accept": "application/json"}
    results = {}
    for name, paths in endpoints(ctx).items():
        def load(concurrency: int, n: int, paths=paths):
            return http_load.run("127.0.0.1", port, paths, "", concurrency=concurrency, requests=n, headers=headers)

        load(2, 20)  # warm-up
        c1, c8 = load(1, requests), load(8, requests * 2)
        results[name] = {"c1": c1.summary(), "c8": c8.summary(), "target_p95_ms": (targets or {}).get(name)}
    return results


if __name__ == "__main__":
    raise SystemExit("Run through `make bench` (benchmarks/run.py), which starts gunicorn on a dataset.")

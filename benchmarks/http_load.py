"""A small closed-loop HTTP load generator: N threads, keep-alive connections, bounded request count."""

import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Sample:
    client_ms: float
    server_ms: float
    queries: int
    status: int


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    wall_seconds: float = 0.0

    def summary(self) -> dict:
        ok = [s for s in self.samples if s.status == 200]
        if not ok:
            return {"requests": len(self.samples), "errors": len(self.samples)}
        server = sorted(s.server_ms for s in ok)
        client = sorted(s.client_ms for s in ok)
        return {
            "requests": len(self.samples),
            "errors": len(self.samples) - len(ok),
            "server_p50_ms": round(statistics.median(server), 2),
            "server_p95_ms": round(percentile(server, 95), 2),
            "client_p50_ms": round(statistics.median(client), 2),
            "client_p95_ms": round(percentile(client, 95), 2),
            "rps": round(len(ok) / self.wall_seconds, 1) if self.wall_seconds else None,
            "queries_per_request": max(s.queries for s in ok),
        }


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def run(
    host: str, port: int, paths: list[str], cookie: str, *, concurrency: int, requests: int, headers: dict | None = None
) -> Result:
    """Send `requests` GETs (cycling through `paths`) from `concurrency` threads; stops by itself."""
    result = Result()
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            path = paths[i % len(paths)]
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1", **(headers or {})})
            resp = conn.getresponse()
            resp.read()
            elapsed = (time.perf_counter() - started) * 1000
            timing = resp.getheader("Server-Timing", "app;dur=0").split("dur=")[-1]
            sample = Sample(elapsed, float(timing), int(resp.getheader("X-Query-Count", "0")), resp.status)
            with lock:
                result.samples.append(sample)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall_seconds = time.perf_counter() - started
    return result

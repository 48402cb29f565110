"""Python's cyclic garbage collector, tuned for the Celery worker.

Parsing a mail (the stdlib MIME parser, html5lib's tree for bleach) allocates tens of thousands of
container objects. With the default thresholds (700, 10, 10) the collector ran ~60 times per 100 mails,
and every few hundred mails walked all of the process's long-lived objects (Django, its models and
URLconf, the templates): 0.51-0.57 ms of a mail's ~5 ms of worker CPU at 1M tickets. Frozen after
start-up (gc.freeze: the long-lived objects are never walked again) and with a larger first generation,
0.20-0.23 ms (benchmarks/ingest.md). Memory: at most 20,000 unreachable objects wait a little longer.
"""

import gc

WORKER_THRESHOLDS = (20_000, 10, 10)


def tune_for_worker() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*WORKER_THRESHOLDS)

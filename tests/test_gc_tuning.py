"""The Celery worker's processes run with the collector tuned for mail parsing (helpdesk_site.gc_tuning)."""

import gc

from celery.signals import worker_init, worker_process_init

from helpdesk_site import celery
from helpdesk_site.gc_tuning import WORKER_THRESHOLDS


def _receivers(signal) -> list:
    return [ref() for _, ref in signal.receivers]  # weak references, as connect() keeps them


def test_worker_processes_freeze_start_up_objects_and_collect_less_often():
    # Connected to both: the solo pool runs tasks in the main process, prefork in children.
    for signal in (worker_init, worker_process_init):
        assert celery._tune_gc in _receivers(signal)
    before = gc.get_threshold()
    try:
        celery._tune_gc()
        assert gc.get_threshold() == WORKER_THRESHOLDS
        assert gc.get_freeze_count() > 10_000  # Django and the project's modules, frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

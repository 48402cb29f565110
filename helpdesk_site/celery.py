import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect  # the solo pool runs tasks in the worker's own process
@worker_process_init.connect  # each prefork child, once started
def _tune_gc(**kwargs) -> None:
    from .gc_tuning import tune_for_worker

    tune_for_worker()

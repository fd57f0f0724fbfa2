import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ieum")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every installed app's tasks module (casework.tasks): a worker imports them as it starts, a web
# process the first time it enqueues a task by name (casework.queue).
app.autodiscover_tasks()

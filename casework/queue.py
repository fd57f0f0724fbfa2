"""Handing work to Celery by task name.

A caller names the task as it is registered (`casework.tasks.deliver_notifications`, the names
CELERY_BEAT_SCHEDULE uses) and never imports casework.tasks: the tasks call into notifications
and workflows, so those must not depend on the tasks module in turn. This module imports nothing
of the project.
"""

import threading
from collections.abc import Mapping, Sequence

from celery import Task, current_app
from celery.result import AsyncResult

_discovering = threading.Lock()


def registered_task(name: str) -> Task:
    """The task registered as `name`. A worker has imported every installed app's tasks module
    when it started (autodiscovery, config/celery.py); a web process has not, and does the same
    here the first time it needs a task."""
    app = current_app
    if name not in app.tasks:
        with _discovering:
            if name not in app.tasks:
                app.autodiscover_tasks(force=True)
    return app.tasks[name]


def enqueue(
    name: str, args: Sequence = (), kwargs: Mapping | None = None, **options
) -> AsyncResult:
    """Publish a run of the task `name` with `args` and `kwargs`; `options` go to apply_async
    (`retry=False`, `countdown`, ...). The registered task's own apply_async publishes it, so
    CELERY_TASK_ALWAYS_EAGER (the demo, the tests) runs it here and now, which `send_task` would
    not. A publish that fails raises, as apply_async does: the caller decides what that means."""
    call = {"args": list(args), **options}
    if kwargs:
        call["kwargs"] = dict(kwargs)
    return registered_task(name).apply_async(**call)

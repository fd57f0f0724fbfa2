"""Handing work to Celery by task name.

A caller names the task as it is registered (`casework.tasks.deliver_notifications`, the names
CELERY_BEAT_SCHEDULE uses) and never imports casework.tasks: the tasks call into notifications
and workflows, so those must not depend on the tasks module in turn. This module imports nothing
of the project.
"""

import logging
import threading
from collections.abc import Mapping, Sequence

from celery import Task, current_app
from celery.result import AsyncResult

logger = logging.getLogger(__name__)

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


def publish(name: str, args: Sequence = (), kwargs: Mapping | None = None, **options) -> bool:
    """`enqueue`, for callers that must not fail when the broker is away (an `on_commit` after a
    request's commit, above all): a publish that fails is logged and answered False, and the
    caller's row (a job still `queued`, a notification still pending) waits for its sweep."""
    options.setdefault("retry", False)  # a dead broker answers within its connection timeout
    try:
        enqueue(name, args, kwargs, **options)
    except Exception:
        logger.warning(
            "could not publish %s%s; its sweep picks it up", name, list(args), exc_info=True
        )
        return False
    return True

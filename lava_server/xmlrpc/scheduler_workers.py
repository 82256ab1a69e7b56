"""``scheduler.workers.*``: dispatcher hosts and their configuration files."""

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from lava_scheduler.events import wake_scheduler
from lava_scheduler.lab import files
from lava_scheduler.lab.config_access import can_read_worker_config
from lava_scheduler.lab.models import Worker
from lava_scheduler.lab.states import WorkerHealth
from lava_scheduler.permissions.rules import CHANGE as CHANGE_RIGHT
from lava_scheduler.permissions.rules import visible_workers, worker_allows
from lava_server.xmlrpc import lookup
from lava_server.xmlrpc.registry import (
    Context,
    as_bool,
    as_int,
    as_text,
    fault,
    method,
    naive_utc,
    require_admin,
    require_right,
    require_user,
)
from lava_server.xmlrpc.yaml_text import require_yaml_mapping

CHANGE = "lab.change_worker"
NEVER = datetime(1970, 1, 1)
# per-worker files, as the master hands them to the worker (dispatcher.d/<worker>/<name>)
CONFIG_FILES = {"config": "dispatcher.yaml", "env": "env.yaml", "env_dut": "env-dut.yaml"}


def _worker_file(hostname: str, kind: str) -> Path:
    return Path(settings.DISPATCHER_D) / hostname / CONFIG_FILES[kind]


@method("scheduler.workers.list")
def list_workers(ctx: Context, show_all: Any = False) -> list[str]:
    """Worker hostnames (Retired ones only with ``show_all``)."""
    workers = visible_workers(ctx.user)
    if not as_bool(show_all, "show_all"):
        workers = workers.exclude(health=WorkerHealth.RETIRED)
    return list(workers.order_by("hostname").values_list("hostname", flat=True))


@method("scheduler.workers.show")
def show(ctx: Context, hostname: str) -> dict[str, Any]:
    """A worker's details; ``last_ping`` is a dateTime (nil if it never connected)."""
    worker = lookup.worker(hostname, ctx)
    return {
        "hostname": worker.hostname,
        "description": worker.description,
        "state": worker.get_state_display(),
        "health": worker.get_health_display(),
        "devices": list(worker.devices.order_by("hostname").values_list("hostname", flat=True)),
        # never nil: lavacli reads .value on it; the epoch stands for "never connected"
        "last_ping": naive_utc(worker.last_ping) or NEVER,
        "job_limit": worker.job_limit,
        "version": worker.version,
        "default_config": not _worker_file(worker.hostname, "config").exists(),
        "default_env": not _worker_file(worker.hostname, "env").exists(),
        "default_env_dut": not _worker_file(worker.hostname, "env_dut").exists(),
    }


@method("scheduler.workers.add")
def add(ctx: Context, hostname: str, description: Any = None, disabled: Any = False) -> None:
    """Add a worker (in Maintenance when ``disabled``)."""
    user = require_admin(ctx, "lab.add_worker")
    if Worker.objects.filter(hostname=str(hostname)).exists():
        raise fault(400, f"Worker '{hostname}' already exists")
    with transaction.atomic():
        worker = Worker(hostname=str(hostname), description=description or "")
        worker.full_clean()
        worker.save()
        if as_bool(disabled, "disabled"):
            worker.go_health(WorkerHealth.MAINTENANCE, user, "added disabled")
            worker.save()


@method("scheduler.workers.update")
def update(
    ctx: Context, hostname: str, description: Any = None, health: Any = None, job_limit: Any = None
) -> None:
    """Change a worker's description, health (ACTIVE, MAINTENANCE, RETIRED) or job limit.

    Description and health are for whoever may change the worker (group permissions too); the job
    limit needs the global permission.
    """
    if job_limit is not None:
        user = require_admin(ctx, CHANGE)
    else:
        user = require_user(ctx)
        lookup.worker(hostname, ctx)  # 404 before 403 for a worker the caller may not even see
        if not worker_allows(user, str(hostname), CHANGE_RIGHT):
            raise fault(403, f"Permission denied: '{user.username}' may not change worker '{hostname}'")
    with transaction.atomic():
        worker = Worker.objects.select_for_update().filter(hostname=str(hostname)).first()
        if worker is None:
            raise fault(404, f"Worker '{hostname}' was not found.")
        if description is not None:
            worker.description = str(description)
        if job_limit is not None:
            worker.job_limit = max(0, as_int(job_limit, "job_limit"))
        if health is not None:
            worker.go_health(lookup.parse_label(WorkerHealth, health, "health"), user, "XML-RPC")
        worker.save()
        wake_scheduler("worker")


@method("scheduler.workers.delete")
def delete(ctx: Context, hostname: str) -> None:
    """Remove a worker from the database."""
    require_admin(ctx, "lab.delete_worker")
    lookup.worker(hostname, ctx).delete()


def _getter(kind: str):
    def get(ctx: Context, hostname: str) -> str:
        require_right(ctx, can_read_worker_config, "worker configuration (needs the right to change workers)")
        worker = lookup.worker(hostname, ctx)
        path = _worker_file(worker.hostname, kind)
        if not path.exists():
            raise fault(404, f"Worker '{hostname}' has no {CONFIG_FILES[kind]}")
        return path.read_text(encoding="utf-8")

    get.__doc__ = f"The worker's {CONFIG_FILES[kind]}."
    return get


def _setter(kind: str):
    def set_(ctx: Context, hostname: str, text: Any) -> bool:
        require_admin(ctx, CHANGE)
        worker = lookup.worker(hostname, ctx)
        path = _worker_file(worker.hostname, kind)
        content = as_text(text, "text")
        if content:
            require_yaml_mapping(content, CONFIG_FILES[kind])
            files.write_atomically(path, content)
        else:
            path.unlink(missing_ok=True)
        return True

    set_.__doc__ = f"Store the worker's {CONFIG_FILES[kind]}; an empty text deletes it."
    return set_


for _kind in CONFIG_FILES:
    method(f"scheduler.workers.get_{_kind}")(_getter(_kind))
    method(f"scheduler.workers.set_{_kind}")(_setter(_kind))

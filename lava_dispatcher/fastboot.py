"""The host's ``fastboot`` and ``adb`` as the fastboot methods run them: argv lists, bounded in time, logged.

A device names its phone with ``fastboot_serial_number`` (``tcp:HOST:PORT`` for
a phone reached over the network, a USB serial otherwise) and adds
``fastboot_options`` (such as ``-S 256M``) to every call. With a job's
``docker:`` block the tools run in that image instead of on the worker
(``docker run --rm``, the job's files mounted read-only at the same path, the
host's network only for a ``tcp:`` serial); the container gets no privileges
beyond what docker gives by default. The client and the daemon are the
dispatcher configuration's (``docker_binary``, ``docker_host``), as for the
docker device.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError
from lava_dispatcher.docker_cli import docker_binary

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext
    from lava_dispatcher.device import DeviceConfig, DispatcherConfig

PROBE_INTERVAL = 0.5
MAX_WAIT = 3600.0
# leave this much of the action's time to say clearly why the wait failed
WAIT_MARGIN = 2.0


@dataclass(frozen=True)
class HostTools:
    serial: str
    options: tuple[str, ...] = ()
    adb_serial: str = ""
    docker_image: str = ""
    docker_local: bool = False
    # the client and its daemon option (-H): the dispatcher's, known only when the job runs (see ``on``)
    docker_cli: tuple[str, ...] = ("docker",)

    @classmethod
    def for_job(cls, device: DeviceConfig, parameters: dict[str, Any]) -> HostTools:
        raw = device.raw
        docker = parameters.get("docker") if isinstance(parameters.get("docker"), dict) else {}
        options = raw.get("fastboot_options") or []
        return cls(
            serial=str(raw.get("fastboot_serial_number") or ""),
            options=tuple(str(o) for o in (options if isinstance(options, list) else [options])),
            adb_serial=str(raw.get("adb_serial_number") or ""),
            docker_image=str(docker.get("image") or docker.get("name") or ""),
            docker_local=bool(docker.get("local", False)),
        )

    def on(self, dispatcher: DispatcherConfig) -> HostTools:
        """These tools calling the dispatcher's docker client and daemon."""
        host = str(dispatcher.raw.get("docker_host") or "")
        return replace(self, docker_cli=(docker_binary(dispatcher), *(("-H", host) if host else ())))

    def errors(self) -> list[str]:
        found = []
        if not self.serial:
            found.append("the device has no fastboot_serial_number")
        elif self.serial.startswith("-"):
            found.append(f"fastboot_serial_number {self.serial!r} would be read as an option")
        return found

    def fastboot(self, *args: str, files: tuple[Path, ...] = ()) -> list[str]:
        return self._wrap(["fastboot", "-s", self.serial, *self.options, *args], files)

    def adb(self, *args: str) -> list[str]:
        return self._wrap(["adb", "-s", self.adb_serial, *args], ())

    def _wrap(self, argv: list[str], files: tuple[Path, ...]) -> list[str]:
        if not self.docker_image:
            return argv
        mounts = []
        for folder in sorted({str(f.parent) for f in files}):
            mounts += ["--volume", f"{folder}:{folder}:ro"]
        pull = ["--pull=never"] if self.docker_local else []
        # the host's network only to reach a phone over it (tcp:HOST:PORT); nothing else needs it
        network = "--network=host" if self.serial.startswith(("tcp:", "udp:")) else "--network=none"
        return [*self.docker_cli, "run", "--rm", "--init", network, *pull, *mounts, self.docker_image, *argv]


def check_docker(ctx: JobContext, tools: HostTools) -> None:
    """With a ``docker:`` block: the CLI, the daemon and (``local: true``) the image are there, else say which is not."""
    import shutil  # deferred: only jobs with a docker block need it

    if not tools.docker_image:
        return
    if shutil.which(tools.docker_cli[0]) is None:
        raise InfrastructureError(f"docker: the job runs fastboot in '{tools.docker_image}' "
                                  "but the docker CLI is not installed on the worker")
    code, output = run_tool(ctx, [*tools.docker_cli, "version", "--format", "{{.Server.Version}}"], 30.0)
    if code != 0:
        raise InfrastructureError(f"docker: cannot reach the docker daemon on the worker ({last_line(output)})")
    if tools.docker_local:
        code, output = run_tool(ctx, [*tools.docker_cli, "image", "inspect", "--format", "{{.Id}}", tools.docker_image], 30.0)
        if code != 0:
            raise InfrastructureError(f"docker: image '{tools.docker_image}' is not on the worker "
                                      f"(local: true forbids pulling it): {last_line(output)}")


def run_tool(ctx: JobContext, argv: list[str], timeout: float) -> tuple[int, str]:
    """Run ``argv`` (no shell) in its own process group; returns (exit code, output). -1: it ran out of time."""
    import subprocess  # deferred: a heavy import that `lava-run --validate` does not need

    ctx.logger.debug("running: " + " ".join(argv))
    wait = max(0.1, min(timeout, ctx.deadlines.remaining()))
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", start_new_session=True)
    except OSError as exc:
        raise InfrastructureError(f"cannot run '{argv[0]}' on the worker: {exc.strerror}") from exc
    ctx.processes.add(proc.pid)
    try:
        output, _ = proc.communicate(timeout=wait)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        output, code = proc.communicate()[0] or "", -1
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        ctx.processes.discard(proc.pid)
    for line in output.splitlines():
        if line.strip():
            ctx.logger.debug(line)
    return code, output


def _kill_group(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def failure_reason(output: str) -> str:
    """The phone's own words (``FAILED (remote: '...')``) when it gave some, else the CLI's last line."""
    for line in output.splitlines():
        if "FAILED (" in line:
            return line[line.index("FAILED ("):].strip()
    return last_line(output)


def run_fastboot(ctx: JobContext, tools: HostTools, what: str, *args: str, files: tuple[Path, ...] = (),
                 timeout: float = 600.0) -> str:
    code, output = run_tool(ctx, tools.fastboot(*args, files=files), timeout)
    if code == -1:
        raise InfrastructureError(f"{what}: 'fastboot {' '.join(args)}' did not finish in time")
    if code != 0:
        raise InfrastructureError(f"{what}: 'fastboot {' '.join(args)}' failed: {failure_reason(output)}")
    return output


def wait_for_fastboot(ctx: JobContext, tools: HostTools) -> None:
    """Until the phone answers ``getvar product``, within the action's time; else say it never came.

    The CLI waits by itself ("< waiting for ... >") for a device that is not there yet; a call that
    fails at once (a USB permission error, say) is tried again.
    """
    start = time.monotonic()
    end = start + min(ctx.deadlines.remaining(), MAX_WAIT) - WAIT_MARGIN
    output = ""
    while (left := end - time.monotonic()) > 0:
        code, output = run_tool(ctx, tools.fastboot("getvar", "product"), left)
        if code == 0:
            ctx.logger.info(f"{tools.serial} is in fastboot after {time.monotonic() - start:.1f} s")
            return
        time.sleep(min(PROBE_INTERVAL, max(0.0, end - time.monotonic())))
    raise InfrastructureError(
        f"the device {tools.serial} never entered fastboot: 'fastboot -s {tools.serial} getvar product' "
        f"got no answer in {time.monotonic() - start:.0f} s (last: {last_line(output)})"
    )

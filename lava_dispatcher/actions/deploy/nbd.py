"""``deploy: to: nbd``: a root filesystem image served by an nbd-server this job starts (``lava-xnbd``).

Kernel, initrd and dtb go to the job's TFTP folder as with ``to: tftp``; the
``nbdroot`` image stays in the scratch folder, gets the test overlay written
into it (ext2/3/4 images, without mounting: ``debugfs -w``), and an
``nbd-server`` of this job serves it on the port the job's ``lava-xnbd``
protocol names (``auto``: a free one from 55000-56000, the reference's
range). The server belongs to the job: it stops with it.

A bootloader's ``nbd`` commands get ``{NBDSERVERIP}`` and ``{NBDSERVERPORT}``
(the board's initramfs runs nbd-client). On a QEMU device, the boot gets the
export as a virtio disk through QEMU's own NBD client, with ``-kernel``,
``-initrd`` and ``root=/dev/vda`` on the kernel command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.bootloader import dispatcher_ip
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.nfs import NETROOT_FAILURE
from lava_dispatcher.actions.deploy.overlay import OverlayAction
from lava_dispatcher.actions.deploy.tftp import PrepareTftpDir, PublishTftpFiles
from lava_dispatcher.context import NbdExport
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

NBD_ROOT = "nbdroot"
EXPORT_NAME = "lava"
PORT_RANGE = range(55000, 56000)  # the reference's lava-xnbd ports
READY_TIMEOUT = 10.0
BOOT_FILES = ("kernel", "initrd", "ramdisk", "dtb")
NBD_ROOT_FAILURES = (r"VFS: Cannot open root device[^\r\n]*", NETROOT_FAILURE)


def xnbd_port(protocols: dict[str, Any]) -> int | str:
    """The job's ``protocols: lava-xnbd: port:`` (``auto`` when the job does not say)."""
    settings = protocols.get("lava-xnbd") if isinstance(protocols, dict) else None
    return (settings or {}).get("port", "auto") if isinstance(settings, dict) else "auto"


def free_port(ports: range = PORT_RANGE) -> int:
    import random  # deferred: a heavy import that `lava-run --validate` does not need
    import socket  # deferred, as above

    candidates = list(ports)
    random.shuffle(candidates)  # two workers on one host rarely race for the same port
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("", port))
            except OSError:
                continue
            return port
    raise InfrastructureError(f"no free port for nbd-server in {ports.start}-{ports.stop - 1}")


def nbd_server_config(image: Path, port: int) -> str:
    return f"[generic]\nport = {port}\n[{EXPORT_NAME}]\nexportname = {image}\n"


def _debugfs_quote(path: str, where: str) -> str:
    if any(c in path for c in '"\\\n\r'):
        raise JobError(f"{where}: '{path}' cannot be written into an ext image (a quote, backslash or newline)")
    return f'"{path}"'


def debugfs_script(tree: Path) -> str:
    """debugfs commands that copy ``tree`` into the image's root, modes included (no links followed)."""
    import stat  # deferred: only a run writes an overlay

    lines = []
    for path in sorted(tree.rglob("*")):
        target = _debugfs_quote("/" + str(path.relative_to(tree)), "the test overlay")
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode):
            lines.append(f"mkdir {target}")
        elif stat.S_ISREG(info.st_mode):
            lines += [f"rm {target}", f"write {_debugfs_quote(str(path), 'the overlay')} {target}"]
        elif stat.S_ISLNK(info.st_mode):
            lines += [f"rm {target}", f"symlink {target} {_debugfs_quote(str(path.readlink()), 'a link')}"]
        else:
            continue
        lines += [f"sif {target} mode 0{info.st_mode:o}", f"sif {target} uid 0", f"sif {target} gid 0"]
    return "\n".join(lines) + "\n"


class ApplyOverlayNbdRoot(Action):
    name = "apply-overlay-nbdroot"
    description = "write the test overlay into the nbdroot image"
    summary = "overlay the nbdroot image"
    section = "deploy"

    def run(self, ctx: JobContext) -> None:
        import subprocess  # deferred: a heavy import that `lava-run --validate` does not need

        if ctx.overlay is None:
            return
        image = ctx.downloaded[NBD_ROOT]
        probe = subprocess.run(["debugfs", "-R", "stats", str(image)], capture_output=True, text=True, check=False)
        if probe.returncode != 0 or "Filesystem magic number" not in probe.stdout:
            raise JobError(f"{NBD_ROOT}: '{image.name}' is not an ext2/3/4 image: the test overlay cannot be written into it")
        script = ctx.scratch() / "overlay-nbdroot.debugfs"
        script.write_text(debugfs_script(ctx.overlay.root))
        proc = subprocess.run(["debugfs", "-w", "-f", str(script), str(image)], capture_output=True, text=True, check=False)
        # debugfs reports a failed command on stderr and goes on; "rm" of a file that is not there is expected
        problems = [line for line in proc.stderr.splitlines()
                    if line.strip() and "File not found by ext2_lookup" not in line and not line.startswith("debugfs ")]
        if proc.returncode != 0 or problems:
            raise JobError(f"{NBD_ROOT}: writing the test overlay failed: {'; '.join(problems[:3]) or proc.returncode}")
        ctx.logger.info(f"{NBD_ROOT}: lava overlay written at {ctx.overlay.results_dir}")


class StartNbdServer(Action):
    name = "nbd-deploy"
    description = "serve the nbdroot image with an nbd-server of this job"
    summary = "start nbd-server"
    section = "deploy"

    def __init__(self, port: int | str) -> None:
        super().__init__()
        self.port = port

    def run(self, ctx: JobContext) -> None:
        import shutil  # deferred: only a run starts a server
        import subprocess  # deferred, as above
        import time  # deferred, as above

        binary = shutil.which("nbd-server") or shutil.which("nbd-server", path="/usr/bin:/bin:/usr/sbin")
        if binary is None:
            raise InfrastructureError("nbd-server is not installed on the worker (apt-get install nbd-server)")
        port = free_port() if self.port == "auto" else int(self.port)
        folder = ctx.scratch() / "nbd"
        folder.mkdir(exist_ok=True)
        config, pid_file = folder / "config", folder / "nbd-server.pid"
        config.write_text(nbd_server_config(ctx.downloaded[NBD_ROOT], port))
        # nbd-server detaches (its own session: pid = process group) and writes its pid; "-d" would
        # keep it in the foreground but serve a single connection
        proc = subprocess.run([binary, "-C", str(config), "-p", str(pid_file)],
                              capture_output=True, text=True, check=False, timeout=30)
        pid = _read_pid(pid_file, READY_TIMEOUT) if proc.returncode == 0 else None
        if pid is not None:
            ctx.processes.add(pid)  # stopped with the job's other processes when it ends
            limit = time.monotonic() + READY_TIMEOUT
            while not port_open("127.0.0.1", port) and time.monotonic() < limit:
                time.sleep(0.1)
        if pid is None or not port_open("127.0.0.1", port):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise InfrastructureError(f"nbd-server did not start on port {port}: {' | '.join(tail) or 'no output'}")
        ctx.nbd = NbdExport(host=dispatcher_ip(ctx), port=port, name=EXPORT_NAME)
        ctx.network_root = f"NBD root nbd://{ctx.nbd.host}:{port}/{EXPORT_NAME} (nbd-server pid {pid})"
        ctx.boot_failures = list(NBD_ROOT_FAILURES)
        ctx.logger.info(f"nbd-server (pid {pid}) serves {ctx.downloaded[NBD_ROOT].name} on port {port}")


def _read_pid(pid_file: Path, timeout: float) -> int | None:
    import time  # deferred: only a run starts a server

    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        try:
            return int(pid_file.read_text().strip())
        except (OSError, ValueError):
            time.sleep(0.05)
    return None


def port_open(host: str, port: int) -> bool:
    import socket  # deferred: a heavy import that `lava-run --validate` does not need

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def qemu_nbd_args(ctx: JobContext) -> list[str]:
    """A QEMU device's arguments for the deployed kernel, initrd and NBD root disk."""
    nbd = ctx.nbd
    assert nbd is not None
    params = (ctx.device.boot_methods().get("qemu") or {}).get("parameters") or {}
    console = ((params.get("boot_options") or {}).get("console")) or ""
    args = []
    if "kernel" in ctx.downloaded:
        args += ["-kernel", str(ctx.downloaded["kernel"])]
    initrd = ctx.downloaded.get("initrd") or ctx.downloaded.get("ramdisk")
    if initrd is not None:
        args += ["-initrd", str(initrd)]
    if "dtb" in ctx.downloaded:
        args += ["-dtb", str(ctx.downloaded["dtb"])]
    # QEMU reaches the server from the worker itself, whatever address boards use
    args += ["-drive", f"file=nbd://127.0.0.1:{nbd.port}/{nbd.name},format=raw,if=virtio"]
    append = " ".join(part for part in (f"console={console}" if console else "", "root=/dev/vda rw") if part)
    return [*args, "-append", append]


class NbdAction(Action):
    name = "nbd-deploy-action"
    description = "download files and serve the root filesystem over NBD"
    summary = "NBD deployment"
    section = "deploy"

    def __init__(self, plan: JobPlan, device: DeviceConfig, port: int | str) -> None:
        super().__init__()
        self.plan = plan
        self.device = device
        self.port = port

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        pipeline.add_action(PrepareTftpDir(), parameters)
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        for label in BOOT_FILES:
            if isinstance(parameters.get(label), dict):
                pipeline.add_action(DownloadRetry(label, parameters[label], dest_dir="tftp"), parameters)
        if isinstance(parameters.get(NBD_ROOT), dict):
            pipeline.add_action(DownloadRetry(NBD_ROOT, parameters[NBD_ROOT]), parameters)
            pipeline.add_action(ApplyOverlayNbdRoot(), parameters)
        pipeline.add_action(PublishTftpFiles(), parameters)
        pipeline.add_action(StartNbdServer(self.port), parameters)

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.parameters.get(NBD_ROOT), dict):
            self.errors.append(f"'{NBD_ROOT}' (a root filesystem image with a url) is required for an nbd deploy")
        if not isinstance(self.parameters.get("kernel"), dict):
            self.errors.append("'kernel' (with a url) is required for an nbd deploy")

    def run(self, ctx: JobContext) -> None:
        kernel = self.parameters.get("kernel")
        ctx.kernel_type = str(kernel.get("type", "image")).lower() if isinstance(kernel, dict) else "image"
        super().run(ctx)
        if "qemu" in ctx.device.boot_methods():
            ctx.boot_image_args = qemu_nbd_args(ctx)


class NbdDeploy(DeployMethod):
    name = "nbd"
    schema = DEPLOY_TARGETS["nbd"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return NbdAction(plan, device, xnbd_port(plan.protocols))

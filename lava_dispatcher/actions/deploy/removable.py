"""``deploy: to: usb`` / ``sata`` / ``sd``: write an image onto the board's secondary media from a running OS.

An earlier block (in another namespace) booted the board into a "master" OS with a shell: a
ramdisk or an NFS root. This deploy downloads the image on the worker (checksums, decompression,
the test overlay where an image asks for it), serves it over HTTP for the time of the write, and
types at that shell::

    { <download tool> <options with {DOWNLOAD_URL}>; echo $? >/tmp/lava-download.status; } | dd of=<device> bs=4M

or, with a ``writer``, its tool and options (``{DOWNLOAD_URL}``, ``{DEVICE}``) instead of ``dd``
(piped from the download tool when there is one). ``device:`` is a label: the device dictionary's
media (``parameters.media.<usb|sata|sd>.<label>.uuid``) maps it to ``/dev/disk/by-id/<uuid>`` on
the board. A later ``boot`` of the same namespace loads its kernel from that media
(``commands: usb``, ``sata``...; see ``actions/boot/secondary_media.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.overlay import ApplyOverlayAction, OverlayAction
from lava_dispatcher.actions.deploy.tmpfs import overlay_target, with_lava_overlay
from lava_dispatcher.context import RemovableMedia
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.console import Console
    from lava_dispatcher.context import JobContext

MEDIA_DIR = "media"  # under the job's scratch dir: the images this deploy serves
STATUS_FILE = "/tmp/lava-download.status"  # on the board: the download tool's exit status
DD_PROMPTS = [r"[0-9]+\+[0-9]+ records out", r"[0-9]+ bytes .* copied"]  # what dd prints when it is done
RESULT = "lava-media-write"  # the line the typed command ends with: "<RESULT>: <writer status> <download status>"


def media_of(device: DeviceConfig, kind: str, label: Any) -> tuple[RemovableMedia | None, str | None]:
    """The dictionary's entry for ``device: <label>`` on ``<kind>`` media, or why there is none."""
    entries = (device.parameters.get("media") or {}).get(kind)
    if not isinstance(entries, dict) or not entries:
        return None, f"the device has no {kind} media (parameters.media.{kind}: set {kind}_uuid in its dictionary)"
    entry = entries.get(label)
    if not isinstance(entry, dict):
        return None, f"device: '{label}' is not a {kind} device of this board (known: {', '.join(sorted(map(str, entries)))})"
    if not entry.get("uuid"):
        return None, f"parameters.media.{kind}.{label}.uuid: the /dev/disk/by-id name of '{label}' is missing"
    return RemovableMedia(kind, str(label), str(entry["uuid"]), int(entry.get("device_id") or 0)), None


def images_of(parameters: dict[str, Any]) -> dict[str, Any]:
    """``images:``, or the single ``image:`` under the label ``image``."""
    if isinstance(parameters.get("images"), dict):
        return dict(parameters["images"])
    return {"image": parameters["image"]} if isinstance(parameters.get("image"), dict) else {}


def master_console(ctx: JobContext, kind: str) -> Console:
    """The shell of the OS an earlier boot started: this namespace's console, else the last one opened
    (the reference's jobs boot the master OS in another namespace and share its console)."""
    if ctx.connection is not None:
        return ctx.connection
    consoles = [c for c in ctx.connections() if c.spawn.isalive()]
    if not consoles:
        raise JobError(f"deploy to {kind}: no booted OS to write from (an earlier boot must reach a shell)")
    return consoles[-1]


class MassStorageAction(Action):
    name = "storage-deploy"
    description = "Deploy image to mass storage"
    summary = "write image to storage"
    section = "deploy"

    def __init__(self, device: DeviceConfig, plan: JobPlan, kind: str) -> None:
        super().__init__()
        self.device = device
        self.plan = plan
        self.kind = kind

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        images = images_of(parameters)
        # the test overlay goes into the image that asks for it (a partition with an ext filesystem)
        wants_overlay = self.plan.needs_overlay and overlay_target(images) is not None
        if wants_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        for label, block in images.items():
            pipeline.add_action(DownloadRetry(label, block, MEDIA_DIR), parameters)
        targets = with_lava_overlay(images, wants_overlay)
        if targets:
            pipeline.add_action(ApplyOverlayAction(targets), parameters)
        pipeline.add_action(WriteMediaAction(self.device, self.kind), parameters)

    def validate(self) -> None:
        super().validate()
        if "image" in self.parameters and "images" in self.parameters:
            self.errors.append("give either 'image' or 'images', not both")


class WriteMediaAction(Action):
    """Type the download-and-write command at the master OS's shell and wait for its result."""

    name = "dd-image"
    description = "deploy image to drive"
    summary = "write image to drive"
    section = "deploy"

    def __init__(self, device: DeviceConfig, kind: str) -> None:
        super().__init__()
        self.device = device
        self.kind = kind

    def validate(self) -> None:
        super().validate()
        if "device" not in self.parameters:
            self.errors.append(f"deploy to {self.kind}: 'device' (a label of the board's {self.kind} media) is required")
        else:
            _, error = media_of(self.device, self.kind, self.parameters["device"])
            if error:
                self.errors.append(error)
        download, writer = self.parameters.get("download"), self.parameters.get("writer")
        images = images_of(self.parameters)
        if images and not (download or writer):
            self.errors.append("neither 'download' nor 'writer' says how the board fetches the image")
        for key, needed in (("download", ("tool", "options", "prompt")), ("writer", ("tool", "options", "prompt"))):
            block = self.parameters.get(key)
            if not block:
                continue
            for field in needed:
                if not isinstance(block.get(field), str) or not block[field].strip():
                    self.errors.append(f"{key}.{field} is required")
            if isinstance(block.get("tool"), str) and not block["tool"].startswith("/"):
                self.errors.append(f"{key}.tool: '{block['tool']}' must be an absolute path on the board")
        if images and "image" not in images:
            self.errors.append(f"images: one of them must be labelled 'image' (the one written), not {', '.join(images)}")
        prompts = (self.parameters.get("tool") or {}).get("prompts")
        if prompts is not None and (not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts)):
            self.errors.append("tool.prompts: a list of what the writing tool prints when it is done")

    def command(self, url: str, device_path: str) -> tuple[str, list[str]]:
        """The line typed at the board, and the messages that say the writing started and ended."""
        values = {"{DOWNLOAD_URL}": url, "{DEVICE}": device_path}

        def filled(block: dict[str, Any]) -> str:
            options = str(block["options"])
            for key, value in values.items():
                options = options.replace(key, value)
            return f"{block['tool']} {options}"

        download, writer = self.parameters.get("download"), self.parameters.get("writer")
        write = filled(writer) if writer else f"dd of='{device_path}' bs=4M"
        if download:
            # the pipe's status is the writer's: the download's own status comes back through a file
            line = f"{{ {filled(download)}; echo $? >{STATUS_FILE}; }} | {write}"
            status = f"$(cat {STATUS_FILE})"
        else:
            line, status = write, "0"
        started = [str((download or writer)["prompt"])]  # the download, when there is one, starts first
        return f"rm -f {STATUS_FILE}; {line}; echo \"{RESULT}: $? {status}\"", started

    def run(self, ctx: JobContext) -> None:
        media, error = media_of(ctx.device, self.kind, self.parameters.get("device"))
        if media is None:
            raise JobError(str(error))
        ctx.media = media
        image = ctx.downloaded.get("image")
        if image is None:
            ctx.logger.info(f"nothing to write: {self.kind} '{media.label}' keeps what it holds")
            return
        device_path = f"/dev/disk/by-id/{media.uuid}"
        console = master_console(ctx, self.kind)
        files = {ctx.downloaded[label].name: ctx.downloaded[label]
                 for label in images_of(self.parameters) if label in ctx.downloaded}
        with serve_files(ctx, files) as folder:
            url = folder + image.name
            line, started = self.command(url, device_path)
            ctx.logger.info(f"writing {image.name} ({image.stat().st_size} bytes) to {self.kind} '{media.label}' "
                            f"({device_path}) from {url}")
            self._write(ctx, console, line, started, url, device_path)

    def _write(self, ctx: JobContext, console: Console, line: str, started: list[str], url: str, device: str) -> None:
        wait = self.connection_wait(ctx)
        done = (self.parameters.get("tool") or {}).get("prompts") or DD_PROMPTS
        result = rf"{RESULT}: (\d+) (\d*)"
        console.sendline(line)
        # the echo of the typed line holds "$?", never digits: only the board's answer matches `result`
        if console.expect([*started, result], wait, what=f"'{started[0]}' (the transfer starting)") == 0:
            if console.expect([*done, result], wait, what="the end of the writing") < len(done):
                console.expect([result], wait, what=f"'{RESULT}'")
        writer_status, download_status = console.match.group(1), console.match.group(2)
        console.expect(console.prompts, wait, what="the shell prompt")
        if download_status not in ("", "0"):
            raise JobError(f"deploy to {self.kind}: the board could not download {url} "
                           f"(the download tool exited with {download_status})")
        if writer_status != "0":
            raise JobError(f"deploy to {self.kind}: writing to {device} failed (exit status {writer_status})")


@contextmanager
def serve_files(ctx: JobContext, files: dict[str, Path]) -> Iterator[str]:
    """Serve these files (by name) over HTTP on a fresh port under a random folder, for the time of the
    ``with`` block; yields that folder's URL. All of a deploy's files sit side by side there, as a writer
    such as bmaptool looks for ``<image>.bmap`` beside the image."""
    # deferred: a server thread only for jobs that write media
    import secrets
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from lava_dispatcher.actions.boot.bootloader import dispatcher_ip

    folder = f"/{secrets.token_hex(16)}/"
    logger = ctx.logger
    nowhere = str(ctx.scratch() / MEDIA_DIR / folder.strip("/"))  # never created: a 404

    class Handler(SimpleHTTPRequestHandler):
        def translate_path(self, request: str) -> str:
            request = request.split("?")[0]
            found = files.get(request[len(folder):]) if request.startswith(folder) else None
            return str(found) if found is not None else nowhere

        def log_message(self, fmt: str, *args: Any) -> None:
            logger.debug(f"media server: {self.address_string()} {fmt % args}")

    server = ThreadingHTTPServer(("", 0), Handler)
    threading.Thread(target=server.serve_forever, name="media-server", daemon=True).start()
    try:
        yield f"http://{dispatcher_ip(ctx)}:{server.server_address[1]}{folder}"
    finally:
        server.shutdown()
        server.server_close()


class _RemovableDeploy(DeployMethod):
    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return MassStorageAction(device, plan, cls.name)


class UsbDeploy(_RemovableDeploy):
    name = "usb"
    schema = DEPLOY_TARGETS["usb"]


class SataDeploy(_RemovableDeploy):
    name = "sata"
    schema = DEPLOY_TARGETS["sata"]


class SdDeploy(_RemovableDeploy):
    name = "sd"
    schema = DEPLOY_TARGETS["sd"]

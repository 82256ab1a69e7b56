"""``test: docker: {image} definitions: [...]``: a test shell in a container beside the board.

The container runs the block's test-shell stage from the job's overlay (the
board's, or one built here when the deploy made none), in the reserved
``docker-test-shell`` namespace, while the board keeps its own console. What
the tests need of the board comes in the container's environment, from the
device dictionary: its connection commands (``LAVA_CONNECTION_COMMAND``,
``LAVA_CONNECTION_COMMAND_<NAME>``), power commands and serial numbers. The
container gets ``--network none`` and no host access beyond that unless the
device's ``test.methods.docker.options`` (written by an admin) ask for it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.schemas.test import TEST_KINDS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.docker import start_container
from lava_dispatcher.actions.deploy.docker import device_remote
from lava_dispatcher.actions.deploy.overlay import results_dir
from lava_dispatcher.actions.test.overlay_bridge import build_test_overlay
from lava_dispatcher.actions.test.shell import TestShellAction
from lava_dispatcher.compose_cli import with_service_networks
from lava_dispatcher.context import NamespaceState, OverlayInfo
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.docker_cli import DockerClient, container_name
from lava_dispatcher.methods import TestMethod
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.qemu_args import admin_argv

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

NAMESPACE = "docker-test-shell"  # reserved by the job schema for this
# the prompt is set by the shell; the quotes keep the echoed command from matching it
PROMPT = "lava-docker-test-shell: # "
SET_PROMPT = "export PS1='lava-docker-test''-shell: # '"
_ENV_NAME = re.compile(r"[^A-Z0-9_]")


def board_environment(device: DeviceConfig) -> dict[str, str]:
    """What the container knows of the board: how to reach it, power it, name it."""
    env: dict[str, str] = {}
    primary = device.primary_connection
    if primary is not None:
        env["LAVA_CONNECTION_COMMAND"] = primary.command
    for connection in device.connections:
        env[f"LAVA_CONNECTION_COMMAND_{_ENV_NAME.sub('_', connection.name.upper())}"] = connection.command
    for key, commands in (("LAVA_HARD_RESET_COMMAND", device.power.hard_reset),
                          ("LAVA_POWER_ON_COMMAND", device.power.power_on),
                          ("LAVA_POWER_OFF_COMMAND", device.power.power_off)):
        if commands:
            env[key] = " && ".join(commands)
    for key, variable in (("adb_serial_number", "ANDROID_SERIAL"), ("fastboot_serial_number", "LAVA_FASTBOOT_SERIAL"),
                          ("board_id", "LAVA_BOARD_ID")):
        if device.raw.get(key):
            env[variable] = str(device.raw[key])
    env["LAVA_DEVICE_HOSTNAME"] = device.hostname
    return env


def container_options_for_tests(device: DeviceConfig) -> tuple[list[str], list[str]]:
    """(global options before ``create``, options of ``create``) from the device's test.methods.docker."""
    methods = (device.actions.get("test") or {}).get("methods") or {}
    spec = methods.get("docker") or {}
    options = admin_argv(spec.get("options") or [])
    if not any(option == "--network" or option.startswith(("--network=", "--net=")) for option in options):
        options = ["--network", "none", *options]
    return admin_argv(spec.get("global_options") or []), options


class StartTestContainer(Action):
    name = "docker-test-container"
    description = "start the container the test shell runs in"
    summary = "start the test container"
    section = "test"

    def __init__(self, device: DeviceConfig, plan: JobPlan) -> None:
        super().__init__()
        self.device = device
        self.plan = plan

    def image(self) -> str:
        docker = self.parameters.get("docker") or {}
        return str(docker.get("image") or docker.get("name") or "")

    def validate(self) -> None:
        if not self.image():
            self.errors.append("docker.image must name a docker image")

    def run(self, ctx: JobContext) -> None:
        docker = self.parameters["docker"]
        image = self.image()
        global_options, options = container_options_for_tests(ctx.device)
        client = DockerClient(ctx.dispatcher, device_remote(ctx.device), global_options)
        client.ensure_image(image, bool(docker.get("local")), timeout=max(1.0, ctx.deadlines.remaining()))
        overlay = ctx.overlay
        if overlay is None:
            root = ctx.scratch() / "docker-test-overlay"
            target = results_dir(self.plan, ctx.device)
            build_test_overlay(ctx, self.plan, root, target)
            overlay = OverlayInfo(root=root, results_dir=target)
        state = ctx.namespaces.setdefault(NAMESPACE, NamespaceState())
        state.overlay = overlay
        state.test_definitions = dict(ctx.test_definitions)
        env_args = [arg for key, value in board_environment(ctx.device).items() for arg in ("--env", f"{key}={value}")]
        name = container_name(ctx.dispatcher.prefix, ctx.job_id, f"test{self.level}")
        networks: list[str] = []
        if ctx.test_services is not None:  # the job's test services run: the tests reach them by name
            options, networks = with_service_networks(options, ctx.test_services.networks())
        outer, ctx.namespace = ctx.namespace, NAMESPACE
        try:
            console = start_container(ctx, client, name, [*options, *env_args, image, "sh"], "docker test", networks)
        finally:
            ctx.namespace = outer
        console.owns_board = False  # the board is elsewhere: power-off must not wait on this one
        state.connection = console
        console.sendline(SET_PROMPT)
        console.expect([PROMPT], self.connection_wait(ctx), what="the test container's shell")
        console.prompts = [PROMPT]


class DockerTestShell(Action):
    name = "lava-docker-test-shell"
    description = "run a test shell in a docker container beside the board"
    summary = "docker test shell"
    section = "test"

    def __init__(self, device: DeviceConfig, plan: JobPlan, stage: int) -> None:
        super().__init__()
        self.device = device
        self.plan = plan
        self.stage = stage

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        pipeline.add_action(StartTestContainer(self.device, self.plan), parameters)
        shell = pipeline.add_action(TestShellAction(self.stage, [PROMPT]), parameters)
        shell.namespace = NAMESPACE

    def run(self, ctx: JobContext) -> None:
        try:
            super().run(ctx)
        finally:
            self._remove_container(ctx)

    def cleanup(self, ctx: JobContext) -> None:
        self._remove_container(ctx)

    @staticmethod
    def _remove_container(ctx: JobContext) -> None:
        state = ctx.namespaces.get(NAMESPACE)
        if state is not None and state.connection is not None:
            state.connection.stop_process()
            state.connection = None


class DockerTest(TestMethod):
    name = "docker"
    key = "docker"
    schema = TEST_KINDS["docker"]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        if "docker" not in block.parameters or "definitions" not in block.parameters:
            return False, "no 'docker' with 'definitions'"
        return True, "accepted"

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DockerTestShell(device, plan, plan.test_stage(block))

"""Methods: the ways a deploy, boot, test or command block can run, and how one is chosen.

A method is one class in the module of the actions it builds. It names
itself as the job writes it (``method: qemu``, ``to: tmpfs``), points at its
schema fragment in ``lava_common.schemas``, says whether it accepts a block on
a device (and why not), and builds the block's top action. Each section lists
its methods in ``actions/<section>/registry.py``; when no method accepts a
block, the user sees every method's reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from lava_common.exceptions import JobError
from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_common.schemas.engine import Node


class Method:
    section: ClassVar[str]
    name: ClassVar[str]
    schema: ClassVar[Node]  # the block's fragment of the job schema, which checks its keys before parsing
    priority: ClassVar[int] = 0  # the highest wins when several methods accept a block

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        """(True, "accepted"), or (False, why not) for the user when no method accepts the block."""
        raise NotImplementedError

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        """The block's top action; the parser adds it to the pipeline, which populates it."""
        raise NotImplementedError


def named_method_accepts(
    device_methods: dict[str, Any] | None, block: PlanBlock, key: str, value: str, what: str
) -> tuple[bool, str]:
    """The usual rule: the block names this method (``key: value``) and the device lists it
    (``device_methods`` None: a method any device has)."""
    if block.parameters.get(key) != value:
        return False, f"'{key}' is not '{value}'"
    if device_methods is not None and value not in device_methods:
        return False, f"the device does not support {what} '{value}'"
    return True, "accepted"


def qemu_method_accepts(device: DeviceConfig, block: PlanBlock, key: str, value: str) -> tuple[bool, str]:
    """A method every QEMU device offers without listing it: the device's ``qemu`` boot method gives
    the command line."""
    if block.parameters.get(key) != value:
        return False, f"'{key}' is not '{value}'"
    if "qemu" not in device.boot_methods():
        return False, "the device is not a QEMU device (no boot method 'qemu')"
    return True, "accepted"


class DeployMethod(Method):
    """``deploy: to: <name>``, on a device that lists <name> in actions.deploy.methods."""

    section = "deploy"
    any_device = False  # True: a method that needs nothing of the device (it need not list it)

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        listed = None if cls.any_device else device.deploy_methods()
        return named_method_accepts(listed, block, "to", cls.name, "deploy method")


class BootMethod(Method):
    """``boot: method: <name>``, on a device that lists <name> in actions.boot.methods."""

    section = "boot"
    any_device = False  # True: a method that needs nothing of the device (it need not list it)

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        listed = None if cls.any_device else device.boot_methods()
        return named_method_accepts(listed, block, "method", cls.name, "boot method")


class TestMethod(Method):
    """A test block whose kind is told by the key it has (``definitions``, ``interactive``...)."""

    __test__ = False  # not a pytest test class
    section = "test"
    key: ClassVar[str]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        return (cls.key in block.parameters, f"no '{cls.key}'")


def select_method(methods: list[type[Method]], device: DeviceConfig, block: PlanBlock) -> type[Method]:
    accepted: list[type[Method]] = []
    reasons: list[str] = []
    for method in methods:
        ok, reason = method.accepts(device, block)
        if ok:
            accepted.append(method)
        else:
            reasons.append(f"{method.__name__}: {reason}")
    if not accepted:
        raise JobError(f"{block.where}: no method accepts this block ({'; '.join(reasons)})")
    return max(accepted, key=lambda m: m.priority)


def retry_count(device: DeviceConfig, block: PlanBlock) -> int:
    """``failure_retry`` of the block, else the device's boot_retry (boot only), else its failure_retry."""
    if "failure_retry" in block.parameters:
        return int(block.parameters["failure_retry"])
    if block.section == "boot" and device.boot_retry is not None:
        return device.boot_retry
    return device.failure_retry

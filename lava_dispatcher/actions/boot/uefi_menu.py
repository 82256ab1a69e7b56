"""``boot: method: uefi-menu``: stop the firmware's countdown and walk its numbered boot menu.

The device lists, under ``actions.boot.methods.uefi-menu``, its menu's
``parameters`` and named step lists; ``commands:`` in the job names one. A step
is ``{select: {items: [...], wait: TEXT, enter: TEXT, fallback: ITEM}}``:

- ``items``: wait for the menu's prompt (``bootloader_prompt``, EDK2's
  ``Start:``), find the menu line whose text is one of the items (an exact
  match first, else a line that contains it) and type its number. A menu line
  is ``<markup[0]><number><markup[1]><separator><text>``, e.g. ``[3] PXE Boot``
  (``item_markup: ['[', ']']``, ``item_class: '0-9'``). When no line matches,
  ``fallback`` names the item to take instead.
- ``wait``: then wait for this text (a prompt of the chosen entry);
- ``enter``: then type this text, with the job's placeholders filled in.

Every typed line ends with the menu's line separator: ``\\r\\n`` (the job's
``line_separator: dos``, the default) or ``\\n`` (``unix``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import placeholders, substitute
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import (
    add_shell_login,
    prompt_list,
)
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

METHOD = "uefi-menu"
LINE_SEPARATORS = {"dos": "\r\n", "unix": "\n"}
STEP_KEYS = {"items", "wait", "enter", "fallback"}


@dataclass(frozen=True)
class MenuStyle:
    """How the firmware draws its menu: the device's ``uefi-menu.parameters``."""

    interrupt_prompt: str
    interrupt_string: str
    markup: tuple[str, str]
    item_class: str
    separator: str
    prompt: str

    @classmethod
    def of(cls, device: DeviceConfig) -> MenuStyle:
        params = (device.boot_methods().get(METHOD) or {}).get("parameters") or {}
        markup = params.get("item_markup") or ["[", "]"]
        return cls(
            interrupt_prompt=str(params.get("interrupt_prompt") or "The default boot selection will start in"),
            interrupt_string=str(params.get("interrupt_string", " ")),
            markup=(str(markup[0]), str(markup[1])) if isinstance(markup, list) and len(markup) == 2 else ("[", "]"),
            item_class=str(params.get("item_class") or "0-9"),
            separator=str(params.get("separator") or ""),
            prompt=str(params.get("bootloader_prompt") or "Start:"),
        )

    def line_pattern(self) -> re.Pattern[str]:
        """A menu line; ``item_class`` is the inside of a regex character class (``0-9``)."""
        start, end = (re.escape(mark) for mark in self.markup)
        return re.compile(rf"{start}\s*([{self.item_class}]+)\s*{end}{re.escape(self.separator)}\s*(.+)")

    def menu_lines(self, text: str) -> dict[str, str]:
        """Item text -> its number, for every menu line in ``text`` (the screen before the prompt)."""
        line = self.line_pattern()
        found: dict[str, str] = {}
        for raw in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", text).splitlines():
            match = line.search(raw)
            if match:
                found[match.group(2).strip()] = match.group(1)
        return found


def choose(menu: dict[str, str], items: list[str]) -> str | None:
    """The number of the first item shown: an exact line first, else a line that contains it."""
    for item in items:
        if item in menu:
            return menu[item]
    for item in items:
        for text, number in menu.items():
            if item in text:
                return number
    return None


def step_list(device: DeviceConfig, name: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The device's menu steps called ``name``, checked; or an error that says what is wrong where."""
    lists = device.boot_methods().get(METHOD) or {}
    if not isinstance(name, str):
        return [], "uefi-menu: 'commands' must name one of the device's menu step lists"
    steps = lists.get(name) if name != "parameters" else None
    if not isinstance(steps, list):
        known = sorted(k for k, v in lists.items() if isinstance(v, list))
        return [], f"uefi-menu: commands '{name}' are not defined for this device (known: {', '.join(known)})"
    for index, step in enumerate(steps):
        select = step.get("select") if isinstance(step, dict) else None
        if not isinstance(select, dict) or not select or set(select) - STEP_KEYS:
            return [], (f"uefi-menu.{name}[{index}]: expected {{select: {{items, wait, enter, fallback}}}}, "
                        f"got {step!r}")
        if "items" in select and not (isinstance(select["items"], list) and select["items"]):
            return [], f"uefi-menu.{name}[{index}].select.items: expected a non-empty list of menu entries"
    return [step["select"] for step in steps], None


class UefiMenuInterrupt(Action):
    name = "uefi-menu-interrupt"
    description = "stop the firmware's boot countdown to get its menu"
    summary = "interrupt the UEFI boot"
    section = "boot"

    def __init__(self, style: MenuStyle) -> None:
        super().__init__()
        self.style = style

    def run(self, ctx: JobContext) -> None:
        ctx.connection.expect([self.style.interrupt_prompt], self.connection_wait(ctx),
                              what=f"the UEFI countdown '{self.style.interrupt_prompt}'")
        ctx.connection.send(self.style.interrupt_string)
        ctx.logger.input(repr(self.style.interrupt_string))


class UefiMenuSelector(Action):
    name = "uefi-menu-selector"
    description = "select the job's entries in the UEFI boot menu"
    summary = "walk the UEFI menu"
    section = "boot"

    def __init__(self, device: DeviceConfig, style: MenuStyle, steps_name: str | None = None) -> None:
        super().__init__()
        self.device = device
        self.style = style
        self.steps_name = steps_name  # None: the job's ``commands``
        self.steps: list[dict[str, Any]] = []

    def validate(self) -> None:
        name = self.parameters.get("commands") if self.steps_name is None else self.steps_name
        self.steps, error = step_list(self.device, name)
        if error:
            self.errors.append(error)
        try:
            self.style.line_pattern()
        except re.error as exc:
            self.errors.append(f"uefi-menu.parameters: item_class '{self.style.item_class}' is not a character class: "
                               f"{exc}")

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        newline = LINE_SEPARATORS[self.parameters.get("line_separator") or "dos"]
        values = placeholders(ctx, self.parameters)
        for step in self.steps:
            if "items" in step:
                console.expect([re.escape(self.style.prompt)], self.connection_wait(ctx),
                               what=f"the UEFI menu prompt '{self.style.prompt}'")
                menu = self.style.menu_lines(console.before)
                wanted = [str(item) for item in step["items"]]
                number = choose(menu, wanted) or (choose(menu, [str(step["fallback"])]) if "fallback" in step else None)
                if number is None:
                    raise InfrastructureError(f"the UEFI menu has no entry {wanted} (its entries: {sorted(menu)})")
                ctx.logger.info(f"UEFI menu: selecting {number} for {wanted}")
                console.send(number + newline)
            if "wait" in step:
                console.expect([re.escape(str(step["wait"]))], self.connection_wait(ctx),
                               what=f"'{step['wait']}' in the UEFI menu")
            if "enter" in step:
                filled = substitute([str(step["enter"])], values)
                if not filled:
                    raise JobError(f"the UEFI menu step needs what this job did not deploy: '{step['enter']}'")
                console.send(filled[0] + newline)
                ctx.logger.input(filled[0])


class UefiMenuAction(ConsoleBootRetry):
    name = "uefi-menu-action"
    description = "power on, stop the firmware, select the boot entries, log in"
    summary = "UEFI menu boot"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        style = MenuStyle.of(self.device)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(UefiMenuInterrupt(style), parameters)
        pipeline.add_action(UefiMenuSelector(self.device, style), parameters)
        if prompt_list(parameters):
            add_shell_login(pipeline, parameters)



class UefiMenuBoot(BootMethod):
    name = METHOD
    schema = BOOT_METHODS[METHOD]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return UefiMenuAction(device, retry_count(device, block))

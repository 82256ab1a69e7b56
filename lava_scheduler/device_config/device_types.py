"""What a dictionary extends, and which device types a set of folders provides."""

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError

from lava_scheduler.device_config.environment import TEMPLATE_SUFFIX, DeviceSandbox
from lava_scheduler.device_config.errors import DeviceConfigError

# a bare environment is enough to parse: parsing never loads other templates
_PARSER = DeviceSandbox(trim_blocks=True, autoescape=False)


@lru_cache(maxsize=4096)
def device_type_of_dictionary(text: str, source: str = "device dictionary") -> str:
    """The device type a dictionary extends: its single ``{% extends %}`` target without ``.jinja2``."""
    try:
        tree = _PARSER.parse(text)
    except TemplateSyntaxError as exc:
        raise DeviceConfigError(f"{source}: line {exc.lineno}: template syntax error: {exc.message}") from None
    _refuse_private_names(tree, source)
    targets = list(tree.find_all(nodes.Extends))
    if not targets:
        raise DeviceConfigError(f"{source}: no {{% extends '<type>.jinja2' %}} line: cannot tell the device type")
    if len(targets) > 1:
        raise DeviceConfigError(f"{source}: {len(targets)} {{% extends %}} lines, a dictionary must have exactly one")
    target = targets[0].template
    if not isinstance(target, nodes.Const) or not isinstance(target.value, str):
        raise DeviceConfigError(f"{source}: line {targets[0].lineno}: the {{% extends %}} target must be a quoted name")
    name = target.value
    if not name.endswith(TEMPLATE_SUFFIX) or "/" in name or name.startswith("."):
        raise DeviceConfigError(
            f"{source}: line {targets[0].lineno}: extends {name!r}, expected '<type>{TEMPLATE_SUFFIX}'"
        )
    return name[: -len(TEMPLATE_SUFFIX)]


def check_template(text: str, source: str = "device-type template") -> None:
    """DeviceConfigError (with the line) unless ``text`` parses as a template the sandbox would run."""
    try:
        tree = _PARSER.parse(text)
    except TemplateSyntaxError as exc:
        raise DeviceConfigError(f"{source}: line {exc.lineno}: template syntax error: {exc.message}") from None
    _refuse_private_names(tree, source)


def _refuse_private_names(tree: nodes.Template, source: str) -> None:
    # the sandbox stops these at run time, but output after {% extends %} never runs:
    # refusing them up front makes every such attempt fail the same clear way
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        else:
            continue
        if name.startswith("_"):
            raise DeviceConfigError(
                f"{source}: line {node.lineno}: access to {name!r} refused by the sandbox (private attribute)"
            )


def _is_device_type_file(path: Path) -> bool:
    # base*.jinja2 are family skeletons, not types a device can be
    return path.is_file() and path.name.endswith(TEMPLATE_SUFFIX) and not path.name.startswith("base")


def list_device_types(paths: Iterable[Path]) -> list[str]:
    """Sorted names of the device types found in ``paths`` (family templates left out)."""
    names: set[str] = set()
    for folder in paths:
        folder = Path(folder)
        if folder.is_dir():
            names.update(p.name[: -len(TEMPLATE_SUFFIX)] for p in folder.iterdir() if _is_device_type_file(p))
    return sorted(names)


def template_exists(name: str, paths: Iterable[Path]) -> bool:
    """Whether a template ``name`` (with or without ``.jinja2``) is in one of ``paths``."""
    if not name or "/" in name or name.startswith("."):
        return False
    filename = name if name.endswith(TEMPLATE_SUFFIX) else name + TEMPLATE_SUFFIX
    return any((Path(folder) / filename).is_file() for folder in paths)

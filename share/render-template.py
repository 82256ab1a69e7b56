#!/usr/bin/env python3
"""Print the device configuration a device dictionary renders to.

  render-template.py --device FILE_OR_NAME [--path DIR ...] [--devices DIR] [--context KEY=VALUE ...]

FILE_OR_NAME is a dictionary file, or a device name looked up as
<devices>/<name>.jinja2. --path adds a device-type folder (searched in the
order given; default: the lab's, then this checkout's device-types/).
Context values are read as YAML: memory=2048 is a number, extra_options=[-smp, '2'] a list.
"""

import argparse
import sys
from pathlib import Path

try:
    import lava_scheduler.device_config  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lava_common.yaml_loader import YAMLLoadError, load_yaml  # noqa: E402
from lava_scheduler.device_config import (  # noqa: E402
    DeviceConfigError,
    default_device_types_paths,
    render_device_yaml,
)

LAB_DEVICES = Path("/etc/lava-server/dispatcher-config/devices")


def parse_context(items: list[str]) -> dict:
    context = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"render-template: --context {item!r}: expected KEY=VALUE")
        try:
            context[key.strip()] = load_yaml(raw) if raw.strip() else ""
        except YAMLLoadError as exc:
            raise SystemExit(f"render-template: --context {key}: {exc}") from None
    return context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render a device dictionary to its device configuration YAML.")
    parser.add_argument("--device", required=True, help="dictionary file, or device name in --devices")
    parser.add_argument("--path", action="append", type=Path, default=[], help="device-type folder (repeatable)")
    parser.add_argument("--devices", type=Path, default=LAB_DEVICES, help=f"devices folder (default {LAB_DEVICES})")
    parser.add_argument("--context", action="append", default=[], metavar="KEY=VALUE", help="job context entry")
    parser.add_argument("--hostname", help="device name to render as (default: the file's stem)")
    args = parser.parse_args(argv)

    context = parse_context(args.context)
    type_paths = args.path or default_device_types_paths()
    candidate = Path(args.device)
    try:
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            hostname = args.hostname or candidate.name.removesuffix(".jinja2")
            output = render_device_yaml(hostname, text, context, device_types_paths=type_paths)
        else:
            output = render_device_yaml(args.hostname or args.device, None, context,
                                        devices_path=args.devices, device_types_paths=type_paths)
    except DeviceConfigError as exc:
        print(f"render-template: {exc}", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        print(f"render-template: cannot read {candidate}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

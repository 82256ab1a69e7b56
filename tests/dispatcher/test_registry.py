"""The lazy registry: a block loads only the methods it names, and chooses as the full list would."""

import subprocess
import sys

import pytest
import yaml

from lava_dispatcher.device import parse_device
from lava_dispatcher.plan import PlanBlock
from lava_dispatcher.registry import SECTIONS, method_class

from .helpers import HERE, REPO

DEVICES = sorted((HERE / "devices").glob("*.yaml"))


def test_every_line_names_its_class_as_the_block_selects_it():
    for section, lines in SECTIONS.items():
        for name, target in lines.items():
            method = method_class(target)
            assert method.section == section, target
            selected_by = {"test": getattr(method, "key", None), "command": "command"}.get(section, method.name)
            assert selected_by == name, target


@pytest.mark.parametrize("device_file", DEVICES, ids=[d.stem for d in DEVICES])
def test_a_method_refuses_every_block_that_does_not_name_it(device_file):
    # what makes loading only the named methods safe: no other method could have accepted the block
    device = parse_device(yaml.safe_load(device_file.read_text()))
    selector = {"deploy": "to", "boot": "method"}
    for section, lines in SECTIONS.items():
        if section == "command":
            continue  # one method, which every command block names
        for name, target in lines.items():
            method = method_class(target)
            for other in lines:
                if other == name:
                    continue
                parameters = {selector[section]: other} if section in selector else {other: []}
                block = PlanBlock(section, 0, "common", parameters)
                assert not method.accepts(device, block)[0], (target, other)


def test_validating_a_job_loads_only_the_modules_of_its_methods():
    code = (
        "import sys, yaml\n"
        "from lava_dispatcher.device import parse_device\n"
        "from lava_dispatcher.parser import build_pipeline\n"
        f"job = yaml.safe_load(open({str(HERE / 'jobs' / 'qemu-tests.yaml')!r}))\n"
        f"device = parse_device(yaml.safe_load(open({str(HERE / 'devices' / 'qemu-x86_64.yaml')!r})))\n"
        "build_pipeline(job, device, '1')\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('lava_dispatcher.actions.')))\n"
    )
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True,
                                text=True).stdout.split())
    named = {"lava_dispatcher.actions.deploy.tmpfs", "lava_dispatcher.actions.boot.qemu",
             "lava_dispatcher.actions.test.shell"}
    assert named <= loaded
    others = {f"lava_dispatcher.actions.{target.partition(':')[0]}"
              for lines in SECTIONS.values() for target in lines.values()} - named
    assert not loaded & others, "methods the job does not name were imported"

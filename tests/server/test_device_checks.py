"""The scheduler's memory of which device configurations render, across passes and restarts."""

from __future__ import annotations

import os

import pytest

from lava_scheduler.scheduler import device_checks


@pytest.fixture
def lab_dirs(tmp_path, settings):
    settings.STATE_DIR = tmp_path / "state"
    types = tmp_path / "device-types"
    types.mkdir()
    (types / "qemu.jinja2").write_text("{% extends 'base.jinja2' %}\n")
    settings.DEVICE_TYPES_PATHS = [types]
    restarted()
    yield types
    restarted()


def restarted() -> None:
    """What a new scheduler process starts with."""
    device_checks._checks.clear()
    device_checks._extends.clear()
    device_checks._state.update(loaded=False, dirty=False, fingerprint=None)


def test_results_survive_a_restart_and_follow_the_dictionary(lab_dirs):
    device_checks.start_pass()
    device_checks.remember("/dev/a.jinja2", 1.0, None)
    device_checks.remember("/dev/b.jinja2", 1.0, "device 'b': template syntax error")
    device_checks.remember_extends("/dev/a.jinja2", 1.0, "qemu")
    device_checks.end_pass()
    restarted()
    device_checks.start_pass()
    assert device_checks.recall("/dev/a.jinja2", 1.0).error is None
    assert device_checks.recall("/dev/b.jinja2", 1.0).error == "device 'b': template syntax error"
    assert device_checks.recall("/dev/a.jinja2", 2.0) is None  # the dictionary was edited
    assert device_checks.recall_extends("/dev/a.jinja2", 1.0) == (True, "qemu")
    assert device_checks.recall_extends("/dev/a.jinja2", 2.0) == (False, None)


def test_a_changed_device_type_template_forgets_everything(lab_dirs):
    device_checks.start_pass()
    device_checks.remember("/dev/a.jinja2", 1.0, None)
    device_checks.end_pass()
    template = lab_dirs / "qemu.jinja2"
    stat = template.stat()
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    device_checks.start_pass()  # same process
    assert device_checks.recall("/dev/a.jinja2", 1.0) is None
    device_checks.remember("/dev/a.jinja2", 1.0, None)
    device_checks.end_pass()
    (lab_dirs / "new-type.jinja2").write_text("")
    restarted()  # a new process, after an upgrade added a template
    device_checks.start_pass()
    assert device_checks.recall("/dev/a.jinja2", 1.0) is None


def test_an_unreadable_file_means_rendering_again(lab_dirs, settings):
    path = settings.STATE_DIR / "scheduler" / "device-checks.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    device_checks.start_pass()
    assert device_checks.recall("/dev/a.jinja2", 1.0) is None

"""MultiNode secondary connections through the whole lab: a host role on a QEMU board running dropbear,
guest roles with no device that log in to it over ssh, run by the host device's worker.

One group, one boot: two ``guest`` members (the reference's ``{api: lava-wait, id, key}`` request)
log in at the address the host sends and run their tests there; ``far`` gets an address nobody
answers at, ``lost`` waits for a message the host never sends.

The network: QEMU user networking with a hostfwd port on the worker's 127.0.0.1 (no host changes;
a tap would need root-made links and our workers refuse tap). The host's test sends the address the
lab reaches its board at, ``lava-target-ip`` (the dictionary's ``device_ip``); the port, user, key
and ssh options come from the host device's dictionary, minimised for the guests.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client

from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.results.models import TestCase
from lava_server.accounts.models import AuthToken
from tests.server.live_lab import LAVACLI, Cli, LiveLab, free_port, start_web, wait_for
from tests.server.test_e2e_jobs import finished

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dispatcher.qemu_jobs import inline  # noqa: E402
from testimages import PROMPT_REGEX, dropbear_initramfs, images, require_qemu  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.qemu]
HOST = "qemu-ssh-host-01"

LOST_WAIT = 20  # seconds
HOST_STEPS = [
    "lava-send ipv4 ipaddr=$(lava-target-ip)",
    "lava-send faraway ipaddr=192.0.2.1",  # TEST-NET-1: nobody answers there
    "lava-wait-all done guest",
    "lava-test-case guests-done --shell true",
    # stay in the group until lost's wait (begun with the group, before the guests were done) timed out:
    # a member waited for that has left makes the coordinator refuse the wait at once instead
    f"sleep {LOST_WAIT + 5}",
]
GUEST_STEPS = [
    'lava-test-case ssh-session --shell test -n "$SSH_CONNECTION"',
    "lava-test-case on-the-host-board --shell grep -q ssh-ed25519 /root/.ssh/authorized_keys",
    "lava-send done",
]


def group_definition(kernel: Path, ramdisk: Path) -> dict:
    guest = {"connection": "ssh", "host_role": "host", "expect_role": "host"}
    wait_minutes = {"minutes": 8}
    return {
        "job_name": "ssh guests",
        "visibility": "public",
        "timeouts": {"job": {"minutes": 14}, "action": {"minutes": 10}, "connection": {"minutes": 2},
                     "connections": {"ssh-check": {"seconds": 15}}},
        "protocols": {"lava-multinode": {"timeout": {"minutes": 8}, "roles": {
            "host": {"device_type": "qemu", "count": 1, "context": {"arch": "amd64"}},
            "guest": {**guest, "count": 2},
            "far": {**guest, "count": 1},
            "lost": {**guest, "count": 1},
        }}},
        "actions": [
            {"deploy": {"role": ["host"], "to": "tmpfs", "authorize": "ssh", "images": {
                "kernel": {"url": f"file://{kernel}", "image_arg": "-kernel {kernel} -append 'console=ttyS0 panic=-1'"},
                "ramdisk": {"url": f"file://{ramdisk}", "image_arg": "-initrd {ramdisk}", "format": "cpio.newc"},
            }}},
            {"boot": {"role": ["host"], "method": "qemu", "media": "tmpfs", "prompts": [PROMPT_REGEX]}},
            # the reference's form (server/qemu-ssh-guest.yaml)
            {"deploy": {"role": ["guest"], "to": "ssh", "connection": "ssh", "protocols": {"lava-multinode": {
                "api": "lava-wait", "id": "ipv4", "key": "ipaddr", "timeout": wait_minutes}}}},
            {"deploy": {"role": ["far"], "to": "ssh", "connection": "ssh", "protocols": {"lava-multinode": {
                "api": "lava-wait", "id": "faraway", "key": "ipaddr", "timeout": wait_minutes}}}},
            # the list form (docs/mustang-ssh-guest.yaml)
            {"deploy": {"role": ["lost"], "to": "ssh", "connection": "ssh", "protocols": {"lava-multinode": [
                {"action": "prepare-scp-overlay", "request": "lava-wait", "messageID": "never",
                 "message": {"ipaddr": "$ipaddr"}, "timeout": {"seconds": LOST_WAIT}}]}}},
            {"test": {"role": ["host"], "definitions": [inline("ssh-host", HOST_STEPS)]}},
            {"test": {"role": ["guest", "far", "lost"], "definitions": [inline("ssh-guest", GUEST_STEPS)]}},
        ],
    }


def start_lab(tmp_path, settings) -> tuple[LiveLab, dict]:
    require_qemu("x86_64")
    kernel, ramdisk = images().x86_64.kernel, dropbear_initramfs()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    key = tmp_path / "worker-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    port = free_port()
    hostfwd = f"hostfwd=tcp:127.0.0.1:{port}-:22"
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    DeviceType.objects.create(name="qemu")
    Worker.objects.create(hostname="worker-ssh")
    lab.add_dispatcher_config("worker-ssh")
    device = Device.objects.create(hostname=HOST, device_type_id="qemu", worker_host_id="worker-ssh")
    device.go_health(DeviceHealth.GOOD, "test setup")
    device.save()
    lab.write_dictionary(HOST, "{% extends 'qemu.jinja2' %}{% set memory = 256 %}{% set device_ip = '127.0.0.1' %}"
                               f"{{% set ssh_host = '127.0.0.1' %}}{{% set ssh_port = {port} %}}"
                               f"{{% set ssh_identity_file = '{key}' %}}{{% set netdevice = 'user,{hostfwd}' %}}")
    lab.start_coordinator()
    lab.start_master()
    lab.start_scheduler()
    lab.start_worker("worker-ssh")
    return lab, {"kernel": kernel, "ramdisk": ramdisk, "hostfwd": hostfwd}


def role_of(job) -> str:
    return yaml.safe_load(job.definition)["protocols"]["lava-multinode"]["role"]


def test_guest_roles_log_in_to_the_host_roles_board(tmp_path, settings):
    lab, parts = start_lab(tmp_path, settings)
    try:
        jobs = submit_job(yaml.safe_dump(group_definition(parts["kernel"], parts["ramdisk"])),
                          User.objects.create_user("gina"))
        assert sorted(str(job.requested_device_type_id) for job in jobs) == ["None"] * 4 + ["qemu"]
        done = [wait_for(lambda job=job: finished(job.pk), 900, "sub-job finished", lab, interval=1) for job in jobs]
        check_with_lavacli(lab, tmp_path, done)
    finally:
        lab.stop_all()
    logs = lab.logs()
    by_role: dict[str, list] = {}
    for job in done:
        by_role.setdefault(role_of(job), []).append(job)
    states = {job.sub_id: (role_of(job), job.get_health_display(), job.error_type, job.error_msg) for job in done}
    for job in by_role["host"] + by_role["guest"]:
        assert job.get_health_display() == "Complete", (states, logs)
    for job in by_role["guest"] + by_role["far"] + by_role["lost"]:
        assert job.actual_device_id is None, states
    cases = {(c.suite.job_id, c.suite.name, c.name): c.get_result_display()
             for c in TestCase.objects.filter(suite__job__in=done)}
    (host,) = by_role["host"]
    assert cases[(host.pk, "0_ssh-host", "guests-done")] == "pass", cases
    for guest in by_role["guest"]:
        assert cases[(guest.pk, "0_ssh-guest", "ssh-session")] == "pass", cases
        assert cases[(guest.pk, "0_ssh-guest", "on-the-host-board")] == "pass", cases
    # an address nobody answers at: a clear ssh error naming it
    (far,) = by_role["far"]
    assert far.get_health_display() == "Incomplete", states
    assert "ssh to root@192.0.2.1:" in far.error_msg, states
    # the host never sends the message: a MultiNode timeout naming it
    (lost,) = by_role["lost"]
    assert lost.get_health_display() == "Incomplete" and lost.error_type == "MultinodeTimeout", states
    assert f"lava-wait never: no answer within {LOST_WAIT} s" in lost.error_msg, states
    device = Device.objects.get(pk=HOST)
    assert (device.get_state_display(), device.get_health_display()) == ("Idle", "Good")
    leftovers = subprocess.run(["pgrep", "-af", "--", parts["hostfwd"]], capture_output=True, text=True)
    assert leftovers.returncode == 1, leftovers.stdout
    # the guest's page: no device, its group page lists every member
    client = Client()
    client.force_login(User.objects.get(username="gina"))
    guest = by_role["guest"][0]
    assert client.get(f"/scheduler/job/{guest.pk}").status_code == 200
    page = client.get(f"/scheduler/job/{guest.sub_id}/multinode")
    assert page.status_code == 200
    assert sorted(m["role"] for m in page.context["members"]) == ["far", "guest", "guest", "host", "lost"]


def check_with_lavacli(lab: LiveLab, tmp_path, done: list) -> None:
    """``lavacli jobs show`` and ``lavacli results`` of a guest sub-job (no device)."""
    if LAVACLI is None:
        return
    uri = start_web(lab)
    cli = Cli(tmp_path / "home", uri)
    cli.identity("default", "gina", AuthToken.objects.create(user=User.objects.get(username="gina")).secret)
    guest = next(job for job in done if role_of(job) == "guest")
    shown = cli("jobs", "show", guest.sub_id).stdout
    assert f"id          : {guest.sub_id}" in shown and "Health      : Complete" in shown, shown
    results = cli("results", guest.sub_id).stdout
    assert "ssh-session" in results and "on-the-host-board" in results, results

"""ssh devices on a real sshd (share/virtual-lab/ssh_host.py): deploy to ssh, boot method ssh, schroot,
new_connection with connection-namespace; jobs that must be refused or end Incomplete."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from testimages import dropbear_initramfs, images, require_qemu

from lava_common.exceptions import JobError
from lava_dispatcher.actions.boot.ssh import _host_from_message
from lava_dispatcher.device import parse_device
from lava_dispatcher.parser import build_pipeline
from lava_dispatcher.protocols.multinode_requests import action_requests
from lava_dispatcher.ssh_target import ssh_target
from lava_scheduler.device_config.minimise import minimised_config
from lava_scheduler.device_config.render import render_device_yaml

from .helpers import HERE, REPO, job_result, results, run_lava

sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
from ssh_host import PROMPT, SshHost, alive, free_port, sshd_available  # noqa: E402

PROMPT_REGEX = r"ssh-host:[^#\r\n]*# "


@pytest.fixture(params=["loopback", "netns"])
def any_ssh_host(request, tmp_path):
    """sshd on 127.0.0.1, or in a network namespace of its own reached over a veth pair."""
    yield from _ssh_host(tmp_path, netns=request.param == "netns")


@pytest.fixture
def ssh_host(tmp_path):
    yield from _ssh_host(tmp_path, netns=False)


def _ssh_host(tmp_path: Path, netns: bool):
    why_not = sshd_available()
    if why_not:
        pytest.skip(why_not)
    host = SshHost(tmp_path / "sshd", netns=netns)
    host.start()
    listener = host.process.pid
    yield host
    host.stop()
    assert not alive(listener), "sshd is still running"
    if host.namespace is not None:
        assert not host.namespace.exists(), f"{host.namespace.name} or its veth is still there"


def ssh_device(tmp_path: Path, host: SshHost, extra: str = "") -> Path:
    """A device of type ssh that logs in to ``host``; the overlay lands under tmp_path, not in /."""
    board_root = tmp_path / "host-root"
    board_root.mkdir(exist_ok=True)
    text = host.dictionary(extra=f"{{% set lava_test_results_dir = '{board_root}/lava-%s' %}}\n" + extra)
    path = tmp_path / "device.yaml"
    path.write_text(render_device_yaml("ssh-host-01", text))
    return path


def ssh_job(*tail: dict, timeout_minutes: int = 3) -> dict:
    return {
        "job_name": "over ssh", "device_type": "ssh", "visibility": "public",
        "timeouts": {"job": {"minutes": timeout_minutes}, "connection": {"seconds": 20}},
        "actions": [
            {"deploy": {"to": "ssh", "os": "debian"}},
            {"boot": {"method": "ssh", "connection": "ssh", "prompts": [PROMPT_REGEX]}},
            *tail,
        ],
    }


SMOKE = {"test": {"definitions": [{
    "from": "inline", "name": "smoke", "path": "inline/smoke.yaml",
    "repository": {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke"},
        "run": {"steps": [
            "lava-test-case hostname --shell test -n \"$(uname -n)\"",
            "lava-test-case device-type --shell test \"$LAVA_DEVICE_TYPE\" = ssh",
            "lava-test-case fails --shell false",
        ]},
    },
}]}}


def test_test_shell_over_ssh(tmp_path, any_ssh_host):
    ssh_host = any_ssh_host
    device = ssh_device(tmp_path, ssh_host)
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, ssh_job(SMOKE), device)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - started < 60
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "hostname")] == "pass"
    assert found[("0_smoke", "device-type")] == "pass"
    assert found[("0_smoke", "fails")] == "fail"
    assert found[("lava", "job")] == "pass"
    # the overlay was copied with scp and unpacked on the host; the tarball did not stay
    assert (tmp_path / "host-root" / "lava-1" / "bin" / "lava-test-runner").exists()
    assert not Path("/tmp/lava-overlay-1.tar.gz").exists()
    messages = " ".join(str(r["msg"]) for r in records)
    assert f"copying the overlay to root@{ssh_host.address}:{ssh_host.port}" in messages
    # every ssh session and client of the job ended with it
    assert ssh_host.sessions() == []
    assert ssh_clients(ssh_host.port, ssh_host.address) == []


def ssh_clients(port: int, address: str = "127.0.0.1") -> list[str]:
    """ssh/scp clients still talking to the host's port."""
    found = subprocess.run(["pgrep", "-af", "--", f"-p {port} root@{address}"], capture_output=True, text=True)
    assert found.returncode in (0, 1), found.stderr
    return found.stdout.splitlines()


def test_refused_key_ends_incomplete_naming_the_host(tmp_path, ssh_host):
    ssh_host.refuse_all_keys()
    device = ssh_device(tmp_path, ssh_host)
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, ssh_job(SMOKE, timeout_minutes=1), device)
    assert time.monotonic() - started < 60
    assert proc.returncode == 1
    result = job_result(records)
    assert result["error_type"] == "Infrastructure"
    assert f"root@127.0.0.1:{ssh_host.port}" in result["error_msg"]
    assert "Permission denied" in result["error_msg"]
    assert ssh_host.sessions() == []


def test_schroot_without_schroot_on_the_host(tmp_path, ssh_host):
    schroot = {"boot": {"method": "schroot", "connection": "ssh", "schroot": "unstable", "os": "debian",
                        "prompts": [PROMPT_REGEX]}}
    proc, records, _ = run_lava(tmp_path, ssh_job(schroot), ssh_device(tmp_path, ssh_host))
    assert proc.returncode == 1
    result = job_result(records)
    if "no chroot named" in result["error_msg"]:
        pytest.skip("this host has schroot: the missing-program path cannot be seen here")
    assert result["error_type"] == "Infrastructure"
    assert "has no 'schroot' program" in result["error_msg"] and "127.0.0.1" in result["error_msg"]


def test_new_connection_and_connection_namespace(tmp_path, ssh_host):
    """A second console (an ssh login, as an admin may configure one) in its own namespace; a test of the
    first namespace runs on it through connection-namespace."""
    target = ssh_target(parse_device(yaml.safe_load(ssh_device(tmp_path, ssh_host).read_text())))
    device = yaml.safe_load((HERE / "devices" / "fake-board.yaml").read_text())
    device["actions"]["boot"]["methods"]["new_connection"] = {}
    device["commands"]["connections"] = {"uart1": {"connect": " ".join(target.ssh_argv(tty=True)), "tags": []}}
    (tmp_path / "fake.yaml").write_text(yaml.safe_dump(device))
    job = yaml.safe_load((HERE / "jobs" / "minimal.yaml").read_text())
    job["actions"][0]["boot"]["namespace"] = "board"
    job["actions"] += [
        {"boot": {"method": "new_connection", "connection": "uart1", "namespace": "uart1", "prompts": [PROMPT_REGEX]}},
        {"test": {"namespace": "board", "connection-namespace": "uart1", "interactive": [{
            "name": "second", "prompts": [PROMPT_REGEX], "script": [
                {"name": "where", "command": "echo on-$((40+2))-$PS1", "successes": [{"message": "on-42-ssh-host"}]},
            ]}]}},
    ]
    proc, records, _ = run_lava(tmp_path, job, tmp_path / "fake.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {(r["definition"], r["case"]): r["result"] for r in results(records)}[("0_second", "where")] == "pass"
    assert ssh_host.sessions() == []


def _validate(tmp_path: Path, job: dict, device: Path):
    proc, records, _ = run_lava(tmp_path, job, device, "--validate")
    return proc.returncode, job_result(records).get("error_msg", "")


def test_job_cannot_set_ssh_options(tmp_path):
    device = tmp_path / "device.yaml"
    device.write_text(render_device_yaml("ssh-host-01", "{% extends 'ssh.jinja2' %}{% set ssh_host = 'h' %}"))
    job = ssh_job(SMOKE)
    job["actions"][0]["deploy"]["options"] = ["-o", "ProxyCommand=touch /tmp/owned"]
    job["actions"][1]["boot"]["identity_file"] = "/root/.ssh/id_rsa"
    code, message = _validate(tmp_path, job, device)
    assert code == 1
    assert "'options' cannot be set by a job" in message
    assert "'identity_file' cannot be set by a job" in message
    assert not Path("/tmp/owned").exists()


def test_ssh_argv_is_a_list_from_the_dictionary(tmp_path):
    device = render_device_yaml("ssh-host-01", "{% extends 'ssh.jinja2' %}{% set ssh_host = 'board.lab' %}"
                                "{% set ssh_port = 2222 %}{% set ssh_identity_file = '/keys/lab' %}")
    target = ssh_target(parse_device(yaml.safe_load(device)))
    argv = target.ssh_argv(tty=True)
    assert argv[:3] == ["ssh", "-o", "BatchMode=yes"]
    assert argv[-5:] == ["-i", "/keys/lab", "-p", "2222", "root@board.lab"]
    assert "StrictHostKeyChecking=no" in argv
    scp = target.scp_argv(Path("/x/o.tgz"), "/tmp/o.tgz", 5)
    assert scp[-2:] == ["/x/o.tgz", "root@board.lab:/tmp/o.tgz"] and "-P" in scp
    assert PROMPT.startswith("ssh-host")


def test_schroot_name_and_device_checks(tmp_path):
    device = tmp_path / "device.yaml"
    device.write_text(render_device_yaml("ssh-host-01", "{% extends 'ssh.jinja2' %}"))
    job = ssh_job({"boot": {"method": "schroot", "schroot": "-x; reboot", "prompts": ["p"]}})
    code, message = _validate(tmp_path, job, device)
    assert code == 1
    assert "schroot '-x; reboot'" in message
    assert "the device has no ssh host (device dictionary: ssh_host)" in message


@pytest.mark.qemu
def test_secondary_connection_to_a_qemu_board(tmp_path):
    """One job, two consoles: a QEMU board on its serial line (namespace board) and an ssh login to the
    same board through QEMU's hostfwd port (namespace guest), with the key installed by authorize: ssh."""
    require_qemu("x86_64")
    imgs = images()
    ramdisk = dropbear_initramfs()
    key = tmp_path / "worker-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    port = free_port()
    hostfwd = f"hostfwd=tcp:127.0.0.1:{port}-:22"
    dictionary = ("{% extends 'qemu.jinja2' %}{% set memory = 256 %}{% set ssh_host = '127.0.0.1' %}"
                  f"{{% set ssh_port = {port} %}}{{% set ssh_identity_file = '{key}' %}}"
                  f"{{% set netdevice = 'user,{hostfwd}' %}}")
    (tmp_path / "device.yaml").write_text(render_device_yaml("qemu-ssh-01", dictionary))
    board_prompt = r"root@lava:[^#\r\n]*# "

    def inline(name: str, steps: list[str]) -> dict:
        return {"from": "inline", "name": name, "path": f"inline/{name}.yaml", "repository": {
            "metadata": {"format": "Lava-Test Test Definition 1.0", "name": name}, "run": {"steps": steps}}}

    job = {
        "job_name": "secondary connection", "device_type": "qemu", "visibility": "public",
        "context": {"arch": "amd64"},
        "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 4}, "connection": {"minutes": 3}},
        "actions": [
            {"deploy": {"namespace": "board", "to": "tmpfs", "authorize": "ssh", "images": {
                "kernel": {"url": f"file://{imgs.x86_64.kernel}",
                           "image_arg": "-kernel {kernel} -append 'console=ttyS0 panic=-1'"},
                "ramdisk": {"url": f"file://{ramdisk}", "image_arg": "-initrd {ramdisk}", "format": "cpio.newc"},
            }}},
            {"boot": {"namespace": "board", "method": "qemu", "media": "tmpfs", "prompts": [board_prompt]}},
            {"deploy": {"namespace": "guest", "to": "ssh", "connection": "ssh"}},
            {"boot": {"namespace": "guest", "method": "ssh", "connection": "ssh", "prompts": [board_prompt]}},
            {"test": {"namespace": "guest", "definitions": [inline("over-ssh", [
                'lava-test-case ssh-session --shell test -n "$SSH_CONNECTION"',
                'lava-test-case from-the-worker --shell \'case "$SSH_CLIENT" in 10.0.2.2\\ *) true;; *) false;; esac\'',
            ])]}},
            {"test": {"namespace": "board", "definitions": [inline("on-serial", [
                'lava-test-case serial-console --shell test -z "$SSH_CONNECTION"',
                "lava-test-case key-installed --shell grep -q ssh-ed25519 /root/.ssh/authorized_keys",
            ])]}},
        ],
    }
    proc, records, _ = run_lava(tmp_path, job, tmp_path / "device.yaml", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_over-ssh", "ssh-session")] == "pass"
    assert found[("0_over-ssh", "from-the-worker")] == "pass"
    assert found[("0_on-serial", "serial-console")] == "pass"
    assert found[("0_on-serial", "key-installed")] == "pass"
    assert found[("lava", "job")] == "pass"
    # QEMU and the ssh client went with the job
    leftovers = subprocess.run(["pgrep", "-af", "--", hostfwd], capture_output=True, text=True)
    assert leftovers.returncode == 1, leftovers.stdout
    assert ssh_clients(port) == []


class _GroupStub:
    """Stands in for the MultiNode protocol: what a lava-wait on the coordinator would reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls = []

    def serve(self, call):
        self.calls.append(call)
        return self.reply


@pytest.mark.parametrize("reply,expected", [
    ("<LAVA_WAIT_COMPLETE 12:ipaddr=10.0.0.15>", "10.0.0.15"),
    ("<LAVA_WAIT_COMPLETE 12:other=1 12:ipaddr=192.168.1.4 12:x=y>", "192.168.1.4"),
    ("<LAVA_WAIT_COMPLETE 12:other=1>", None),
    ("<LAVA_WAIT_COMPLETE 12:ipaddr=-oProxyCommand=x>", None),
])
def test_guest_host_from_a_multinode_message(reply, expected):
    class Ctx:
        multinode = _GroupStub(reply)

    if expected is None:
        with pytest.raises(JobError, match="MultiNode message 'ipv4' has no usable 'ipaddr'"):
            _host_from_message(Ctx(), "ipv4", "ipaddr")
    else:
        assert _host_from_message(Ctx(), "ipv4", "ipaddr") == expected
        assert (Ctx.multinode.calls[0].api, Ctx.multinode.calls[0].message_id) == ("WAIT", "ipv4")


def _names(action) -> list[str]:
    names = [action.name]
    for child in (action.pipeline.actions if action.pipeline else []):
        names += _names(child)
    return names


def _guest(deploy: dict, boot: dict | None = None) -> dict:
    actions = [{"deploy": {"to": "ssh", "connection": "ssh", **deploy}}, *([{"boot": boot}] if boot else []),
               {"test": {"definitions": [{"from": "inline", "name": "t", "path": "inline/t.yaml", "repository": {
                   "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "t"}, "run": {"steps": ["true"]}}}]}}]
    return {"job_name": "guest", "visibility": "public", "timeouts": {"job": {"minutes": 5}},
            "connection": "ssh", "host_role": "host", "actions": actions,
            "protocols": {"lava-multinode": {"target_group": "g", "role": "guest", "group_size": 2,
                                             "roles": {"1": "guest", "2": "host"}}}}


def test_a_secondary_connection_logs_in_at_its_deploy_unless_a_boot_follows():
    """The reference's two shapes of a guest: a deploy to ssh followed by tests (the deploy logs in at the
    address its wait received), or by a boot: method: ssh (which logs in itself)."""
    host = yaml.safe_load(render_device_yaml("qemu-01", "{% extends 'qemu.jinja2' %}{% set ssh_port = 2022 %}"
                                                       "{% set ssh_identity_file = '/k/lava' %}"))
    device = parse_device(minimised_config(host))
    legacy = {"protocols": {"lava-multinode": {"api": "lava-wait", "id": "ipv4", "key": "ipaddr",
                                               "timeout": {"minutes": 2}}}}
    (request,), errors = action_requests(legacy, "actions[0].deploy")
    assert errors == [] and (request.api, request.message_id, request.host_variable) == ("WAIT", "ipv4", "ipaddr")
    pipeline, _ = build_pipeline(_guest(legacy), device, "1")
    names = _names(pipeline.actions[0])
    assert names[names.index("login-ssh-guest"):] == [
        "login-ssh-guest", "ssh-check", "scp-overlay", "ssh-connection", "ssh-guest-prompt", "ssh-unpack-overlay",
        "export-device-env"]
    assert pipeline.actions[0].pipeline.actions[-1].pipeline.actions[0].host_variable == "ipaddr"
    boot = {"method": "ssh", "connection": "ssh", "prompts": ["# "], "parameters": {"hostID": "ipv4", "host_key": "ipaddr"}}
    pipeline, _ = build_pipeline(_guest(legacy, boot), device, "1")
    assert "login-ssh-guest" not in _names(pipeline.actions[0])
    assert "login-ssh" in _names(pipeline.actions[1])
    # the minimised device can neither power nor open the board's consoles
    assert device.power.power_on == [] and device.connections == [] and "qemu" not in device.boot_methods()

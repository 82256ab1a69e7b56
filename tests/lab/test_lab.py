"""The whole product as a user gets it: ``./lab.sh`` starts a lab, which is then driven only from outside.

On PostgreSQL when ``LAVA_DATABASE_URL`` is set (a database of its own on that
server, dropped afterwards), else on the embedded SQLite. One lab serves the
whole module; its stop is checked last (no QEMU, ser2net or pdudaemon left).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from testimages import images

from .lab_client import BIN, LabClient
from .postgres import scratch_database

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.qemu, pytest.mark.lab]
JOBS = REPO_ROOT / "share" / "lab" / "jobs"
SHIPPED_IMAGES = "/srv/lava/test-images"
DEVICES = ("qemu-x86-64-01", "qemu-arm64-01", "uboot-arm64-01", "ipxe-x86-01")
BOARDS = "default,ipxe-x86-01"  # the default boards and the iPXE PC (not a default one)
PDU_OFF = "lab-test, the PDU may cut the power now"


def free_ports(count: int) -> list[int]:
    """``count`` consecutive free ports (the lab uses runs of them), below the kernel's ephemeral range.

    The lab is stopped and started again on the same ports: in between, a port of the
    ephemeral range may become the local end of any outgoing connection on the machine,
    and the daemon that listened there could not listen again.
    """
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(50):
        base = random.randrange(10000, ephemeral_low - count)
        held = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
            return list(range(base, base + count))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no run of free ports")


class RunningLab:
    def __init__(self, root: Path, database_url: str | None) -> None:
        ports = free_ports(20)
        # the master's port and the next three (wake-ups, event intake); the publisher's two; the NFS
        # server's, ser2net's control port, then one telnet port per board with a virtual-lab kind
        web, master, pdu, coordinator, events = ports[0], ports[1], ports[5], ports[6], ports[7]
        control, telnet = ports[10], ports[11]
        self.root = root
        self.state = root / "state"
        self.url = f"http://127.0.0.1:{web}"
        self.pdu = f"127.0.0.1:{pdu}"
        self.env = dict(os.environ, LAVA_STATE_DIR=str(self.state), LAVA_CONFIG_DIR=str(self.state / "etc"),
                        LAVA_LAB_PORT=str(web), LAVA_LAB_MASTER_PORT=str(master), LAVA_LAB_PDU_PORT=str(pdu),
                        LAVA_LAB_TELNET_PORT=str(telnet), LAVA_LAB_COORDINATOR_PORT=str(coordinator),
                        LAVA_LAB_EVENTS_PORT=str(events))
        assert control == telnet - 1
        self.env.pop("LAVA_DATABASE_URL", None)
        if database_url:
            self.env["LAVA_DATABASE_URL"] = database_url
        self.lines: list[str] = []
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 600, args: tuple[str, ...] = ("--no-samples", "--boards", BOARDS)) -> float:
        started = time.monotonic()
        self.process = subprocess.Popen(
            ["sh", str(REPO_ROOT / "lab.sh"), *args], cwd=REPO_ROOT, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        while not any(" lab up in " in line for line in self.lines):
            assert self.process.poll() is None, f"lab.sh exited {self.process.returncode}:\n{self.output()}"
            assert time.monotonic() - started < timeout, f"lab not up after {timeout} s:\n{self.output()}"
            time.sleep(0.1)
        return time.monotonic() - started

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def credentials(self) -> tuple[str, str]:
        text = "\n".join(self.lines)
        user = re.search(r"admin user: (\S+)", text).group(1)
        token = re.search(r"API token: (\S+)", text).group(1)
        return user, token

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # to run.py: lab.sh exec()s it
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise

    def leftovers(self) -> list[str]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if str(self.state) in cmdline and state != "Z":
                found.append(cmdline)
        return found


def wait_for(predicate, timeout: float, what: str, lab: RunningLab, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{lab.output()}")


def job_file(tmp: Path, name: str, images_root: Path, extra_steps: list[str] | None = None) -> Path:
    text = (JOBS / name).read_text().replace(SHIPPED_IMAGES, str(images_root))
    if extra_steps:
        anchor = "          - lava-test-case kernel --shell uname -a\n"
        # JSON strings are YAML scalars that no colon in the step can turn into a mapping
        text = text.replace(anchor, anchor + "".join(f"          - {json.dumps(step)}\n" for step in extra_steps))
    path = tmp / name
    path.write_text(text)
    return path


def finished(client: LabClient, job_id: int):
    job = client.job(job_id)
    return job if job["state"] == "Finished" else None


def log_has(client: LabClient, job_id: int, pattern: str) -> bool:
    return any(isinstance(r.get("msg"), str) and re.search(pattern, r["msg"]) for r in client.log(job_id))


def pdu_off(lab: RunningLab) -> None:
    subprocess.run([shutil.which("pduclient") or str(Path(os.sys.executable).parent / "pduclient"),
                    "--daemon", lab.pdu, "--hostname", "lab-pdu", "--port", "1", "--command", "off"],
                   check=True, timeout=30)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    for tool in ("qemu-system-x86_64", "qemu-system-aarch64", "ser2net", "socat", "telnet"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (share/ci/setup-host.sh)")
    if not Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin").exists():
        pytest.skip("u-boot-qemu is not installed")
    if not Path("/usr/lib/ipxe/qemu/pxe-e1000.rom").exists():
        pytest.skip("ipxe-qemu is not installed")
    images()  # builds them now, or skips, rather than inside the lab's start-up time
    root = tmp_path_factory.mktemp("lab")
    with scratch_database(os.environ.get("LAVA_DATABASE_URL")) as database_url:
        running = RunningLab(root, database_url)
        running.start_seconds = running.start()
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def client(lab):
    user, token = lab.credentials()
    return LabClient(lab.url, user, token, lab.env, lab.state)


def test_health_checks_pass_and_a_job_completes_on_each_device(lab, client, tmp_path):
    started = time.monotonic()
    # lavacli's event stream, through /ws/ of the lab's web port, as a user follows the lab
    # unbuffered: its lines must be in the pipe when it is killed
    events = subprocess.Popen([str(BIN / "lavacli"), "--uri", client.uri, "events", "listen"],
                              env={**client.env, "PYTHONUNBUFFERED": "1"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for device in DEVICES:
        wait_for(lambda d=device: client.device_health(d) == "Good", 300, f"{device} Good", lab)
    # as the lab's start-up tells a user: the sample jobs it wrote for its boards and images, as they are
    ready = re.search(r"lavacli -i lab jobs submit (\S+)/qemu-x86_64\.yaml", "\n".join(lab.lines))
    assert ready, lab.output()
    folder = Path(ready.group(1))
    assert sorted(p.name for p in folder.iterdir()) == [
        "ipxe-x86.yaml", "multinode-qemu.yaml", "qemu-arm64.yaml", "qemu-uboot-arm64.yaml", "qemu-x86_64.yaml"]
    jobs = {
        "qemu-x86-64-01": client.submit(folder / "qemu-x86_64.yaml"),
        "qemu-arm64-01": client.submit(folder / "qemu-arm64.yaml"),
        "uboot-arm64-01": client.submit(folder / "qemu-uboot-arm64.yaml"),
    }
    for device, job_id in jobs.items():
        job = wait_for(lambda j=job_id: finished(client, j), 300, f"job {job_id} finished", lab)
        assert (job["health"], job["device"]) == ("Complete", device), (client.how, lab.output())
    print(f"\nlab up in {lab.start_seconds:.1f} s; health checks and three jobs "
          f"Complete {time.monotonic() - started:.1f} s later (driven through {client.how})")
    events.kill()  # it waits for events until stopped (SIGTERM is not always enough)
    seen = events.communicate(timeout=30)[0]
    for device, job_id in jobs.items():
        assert f"[{job_id}] <{device}> state=Finished health=Complete" in seen, seen[-3000:]
    uboot = jobs["uboot-arm64-01"]
    assert log_has(client, uboot, r"Hit any key to stop autoboot")
    assert log_has(client, uboot, r"^=> ")
    assert log_has(client, uboot, r"TFTP from server 10\.0\.2\.2")
    assert log_has(client, uboot, r"Bytes transferred = \d+")
    assert log_has(client, uboot, r"lava login: ")
    assert log_has(client, uboot, r"pduclient .*--command reboot")


def test_the_multinode_sample_group_completes_with_each_roles_results(lab, client, tmp_path):
    """share/lab/jobs/multinode-qemu.yaml: a server and a client board exchanging key=value messages."""
    for device in DEVICES[:2]:
        wait_for(lambda d=device: client.device_health(d) == "Good", 300, f"{device} Good", lab)
    sub_ids = client.submit_group(job_file(tmp_path, "multinode-qemu.yaml", images().root))
    first = sub_ids[0].split(".")[0]
    assert sub_ids == [f"{first}.0", f"{first}.1"], sub_ids
    jobs = {sub: wait_for(lambda s=sub: finished(client, s), 720, f"job {sub} finished", lab) for sub in sub_ids}
    # the server role was split first (roles in submission order), each on the board its tags name
    ends = {sub: [r["msg"] for r in client.log(sub) if r.get("lvl") in ("results", "error")][-3:] for sub in sub_ids}
    assert {sub: (job["health"], job["device"]) for sub, job in jobs.items()} == {
        f"{first}.0": ("Complete", "qemu-x86-64-01"), f"{first}.1": ("Complete", "qemu-arm64-01")}, (ends, lab.output())
    cases = {sub: {(r["suite"], r["name"]): r for r in client.results(sub)} for sub in sub_ids}
    server, group_client = cases[f"{first}.0"], cases[f"{first}.1"]
    assert server[("0_multinode-server", "client-rate")]["result"] == "pass", server
    assert float(server[("0_multinode-server", "client-count")]["measurement"]) == 1
    assert group_client[("0_multinode-client", "server-greeting")]["result"] == "pass", group_client
    port = group_client[("0_multinode-client", "server-port")]
    assert (float(port["measurement"]), port["unit"]) == (5201, "port"), port
    for role_cases in (server, group_client):
        assert {r["result"] for r in role_cases.values()} == {"pass"}, role_cases
    assert ("lava", "multinode-wait-all-done") in server and ("lava", "multinode-wait-ready") in group_client
    for sub in sub_ids:  # lavacli jobs logs <id>.<n>
        assert log_has(client, sub, r"^MultiNode: lava-sync finished"), sub
    # the group's page, from the lab's web server: both members, their state, the messages exchanged
    with urllib.request.urlopen(f"{lab.url}/scheduler/job/{first}.1/multinode", timeout=60) as page:
        html = page.read().decode()
    for sub, role, device in ((f"{first}.0", "server", "qemu-x86-64-01"), (f"{first}.1", "client", "qemu-arm64-01")):
        row = re.search(rf'<tr id="member-{re.escape(sub)}">(.*?)</tr>', html, re.S).group(1)
        assert all(f"{word}<" in row for word in (sub, role, device, "Finished", "Complete")), row
    sent = re.findall(r"<td>(lava-send|lava-wait-all|lava-wait)\b.*?</td>\s*<td>(\w+)</td>\s*<td><code>(.*?)</code></td>"
                      r"\s*<td><code>(.*?)</code></td>", html, re.S)
    # what a member received is keyed by the sender's job number: the server's is the group's first
    words = {(call, message): (set(out.split()), set(re.sub(rf"\b(?!{first}:)\d+:", "CLIENT:", received).split()))
             for call, message, out, received in sent}
    assert words == {("lava-send", "ready"): ({"greeting=hello", "port=5201"}, set()),
                     ("lava-wait", "ready"): (set(), {f"{first}:greeting=hello", f"{first}:port=5201"}),
                     ("lava-send", "done"): ({"rate=42"}, set()),
                     ("lava-wait-all", "done"): (set(), {"CLIENT:rate=42"})}, words


def test_the_ipxe_board_chains_its_script_through_ser2net_and_the_pdu(lab, client, tmp_path):
    """The sample job of the iPXE PC: Ctrl-B and two commands typed over ser2net, the rest in a TFTP script."""
    wait_for(lambda: client.device_health("ipxe-x86-01") == "Good", 300, "iPXE board Good", lab)
    job_id = client.submit(job_file(tmp_path, "ipxe-x86.yaml", images().root))
    job = wait_for(lambda: finished(client, job_id), 300, f"job {job_id} finished", lab)
    assert (job["health"], job["device"]) == ("Complete", "ipxe-x86-01"), lab.output()
    assert log_has(client, job_id, r"pduclient .*--hostname lab-pdu --port \d+ --command reboot")
    assert log_has(client, job_id, r"Press Ctrl-B for the iPXE command line")
    assert log_has(client, job_id, r"^chain tftp://10\.0\.2\.2/.*/script\.ipxe$")
    assert log_has(client, job_id, r"script\.ipxe\.\.\. ok")
    assert log_has(client, job_id, r"lava login: ")
    results = [r["msg"] for r in client.log(job_id) if r.get("lvl") == "results"]
    assert {m["case"]: m["result"] for m in results if isinstance(m, dict) and m.get("definition") == "0_smoke"} == {
        "kernel": "pass", "lava-mac": "pass"}, results


def test_pdu_off_mid_job_is_an_infrastructure_error_and_a_failed_health_check_makes_the_board_bad(
        lab, client, tmp_path):
    wait_for(lambda: client.device_health("uboot-arm64-01") == "Good", 300, "U-Boot board Good", lab)
    path = job_file(tmp_path, "qemu-uboot-arm64.yaml", images().root, [f"echo '{PDU_OFF}'", "sleep 120"])
    job_id = client.submit(path)
    wait_for(lambda: log_has(client, job_id, f"^{PDU_OFF}") or finished(client, job_id), 300,
             "the job's test running", lab, 0.2)
    assert finished(client, job_id) is None, f"job {job_id} ended before its test ran\n{lab.output()}"
    pdu_off(lab)
    job = wait_for(lambda: finished(client, job_id), 60, "the job to end", lab, 0.5)
    assert job["health"] == "Incomplete"
    assert log_has(client, job_id, r"connection closed"), lab.output()
    results = [r["msg"] for r in client.log(job_id) if r.get("lvl") == "results"]
    assert any(m.get("case") == "job" and m.get("error_type") == "Infrastructure" for m in results
               if isinstance(m, dict)), results
    # the infrastructure error sends the board to a health check; the PDU cuts it again and again until that
    # check ends (its log reaches the server seconds after the board printed it: a single cut timed on the
    # log may come after a check that takes five seconds)
    health_check = wait_for(
        lambda: max((j["id"] for j in client.jobs() if isinstance(j["id"], int) and j["id"] > job_id), default=None),
        60, "a health check", lab)
    wait_for(lambda: client.job(health_check)["state"] in ("Running", "Finished"), 120, "the health check running",
             lab, 0.2)

    def cut_again():
        pdu_off(lab)
        return finished(client, health_check)

    check = wait_for(cut_again, 120, "the health check to end", lab, 0.3)
    assert check["health"] == "Incomplete"
    wait_for(lambda: client.device_health("uboot-arm64-01") == "Bad", 30, "the board Bad", lab)


def daemon_pid(lab: RunningLab, name: str) -> int:
    return json.loads((lab.state / "lab-ready").read_text())["daemons"][name]


def answering(function, *args):
    """``function(*args)``, or None while the web server is restarting."""
    try:
        return function(*args)
    except AssertionError:
        return None


def test_a_killed_daemon_is_restarted_and_running_jobs_still_finish(lab, client, tmp_path):
    for device in DEVICES[:2]:
        wait_for(lambda d=device: client.device_health(d) == "Good", 300, f"{device} Good", lab)
    # long enough for every daemon to be killed and restarted while both jobs run
    jobs = [client.submit(job_file(tmp_path, name, images().root, ["sleep 40"]))
            for name in ("qemu-x86_64.yaml", "qemu-arm64.yaml")]
    wait_for(lambda: all(client.job(j)["state"] == "Running" for j in jobs), 120, "both jobs running", lab, 0.5)
    for daemon in ("web", "scheduler", "master", "publisher", "worker", "watch", "virtual-lab"):
        lines = len(lab.lines)
        os.kill(daemon_pid(lab, daemon), signal.SIGKILL)
        wait_for(lambda d=daemon, n=lines: any(f"{d} restarted" in line for line in lab.lines[n:]), 30,
                 f"{daemon} restarted", lab, 0.2)
        assert any(f"{daemon} killed by SIGKILL" in line for line in lab.lines[lines:]), lab.output()
        assert f"{daemon} restarted" in (lab.state / "logs" / f"{daemon}.log").read_text()
    assert lab.process.poll() is None
    for job_id in jobs:
        job = wait_for(lambda j=job_id: answering(finished, client, j), 300, f"job {job_id} finished", lab)
        assert job["health"] == "Complete", lab.output()
        # the whole log, through its end: nothing lost while the master and the worker were down
        assert log_has(client, job_id, r"lava login: ")
        results = [r["msg"] for r in client.log(job_id) if r.get("lvl") == "results"]
        assert any(isinstance(m, dict) and m.get("case") == "kernel" and m.get("result") == "pass"
                   for m in results), results


def test_the_labs_private_state_is_closed_to_other_users(lab, client):
    # lab.sh sets umask 027; the TFTP folder stays readable by design (the TFTP server)
    state = lab.state
    assert stat.S_IMODE(state.stat().st_mode) == 0o750
    for secret in (state / "admin-credentials.json", state / "secret_key", *state.glob("keys/*.key_secret")):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    private = [state / "media", state / "etc" / "dispatcher-config" / "devices", state / "worker" / "jobs",
               *state.glob("lava.sqlite3")]
    opened = [str(p) for root in private for p in (root, *root.rglob("*"))
              if not p.is_symlink() and stat.S_IMODE(p.stat().st_mode) & 0o007]
    assert opened == []


def test_sigterm_stops_every_process_the_lab_started(lab, client):
    lab.jobs_before_stop = {j["id"]: (j["state"], j["health"]) for j in client.jobs()}
    # the lab's own stop, as Ctrl-C would do it
    assert lab.stop() == 0, lab.output()
    assert lab.leftovers() == [], lab.output()
    assert "stopped" in lab.lines[-1]


def test_started_again_it_reuses_everything_and_keeps_jobs_and_results(lab, client):
    before = lab.jobs_before_stop
    assert before, "the jobs of the earlier tests"
    credentials = lab.credentials()
    lab.lines.clear()
    seconds = lab.start(timeout=120)
    # the database keeps only the token's hash: the same token comes from the lab's 0600 file
    assert lab.credentials() == credentials
    print(f"\nrestart: lab up again in {seconds:.1f} s")
    assert seconds < 30, lab.output()
    assert not any("new devices" in line or "sample job" in line for line in lab.lines), lab.output()
    after = {j["id"]: (j["state"], j["health"]) for j in client.jobs()}
    assert {k: v for k, v in after.items() if k in before} == before
    assert lab.stop() == 0, lab.output()
    assert lab.leftovers() == [], lab.output()

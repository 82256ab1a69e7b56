"""Test services (``test: services:``), run for real: docker-compose on a private dockerd.

A tarball (``from: url``) and a local git repository (``from: git``) each hold
a compose file whose busybox httpd serves a page; the docker device's test
shell reads both by service name, ``command: stop_test_services`` stops them,
and afterwards no container, network, volume, link or process is left.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_yaml

from .docker_fixtures import IMAGE, assert_clean, dockerd, host_state, private_dockerd  # noqa: F401 - dockerd is a fixture
from .helpers import CORPUS, REPO, job_result, results, run_lava, write_dispatcher_config
from .qemu_jobs import inline
from .test_worker_fakes import FakeMaster, start_worker, stop, wait_until

sys.path.insert(0, str(REPO / "share"))
from corpus_run.survey import run_all  # noqa: E402 - share/ is not a package

COMPOSE = """version: "3.7"
services:
  {name}:
    image: {image}
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    volumes: ["./www:/www:ro"]
    stop_signal: SIGKILL
{extra}"""
NOT_STARTED = """  idle:
    image: lava/not-started:1
"""


@pytest.fixture(autouse=True)
def compose_installed() -> None:
    if not shutil.which("docker-compose"):
        pytest.skip("docker-compose is not installed (share/ci/setup-host.sh installs it)")


def services_device(tmp_path, allow: bool = True):
    path = tmp_path / "device.yaml"
    dictionary = "{% extends 'docker.jinja2' %}\n" + ("{% set allow_test_services = true %}\n" if allow else "")
    path.write_text(render_device_yaml("docker-02", dictionary, device_types_paths=[REPO / "device-types"]))
    return path


def web_tarball(tmp_path, compose: str) -> str:
    """A gzip tarball holding web/docker-compose.yaml and the page it serves."""
    root = tmp_path / "web-src" / "web"
    (root / "www").mkdir(parents=True)
    (root / "docker-compose.yaml").write_text(compose)
    (root / "www" / "index.html").write_text("hello-web\n")
    tarball = tmp_path / "web.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(root, arcname="web")
    return f"file://{tarball}"


def api_repository(tmp_path) -> str:
    repo = tmp_path / "api-repo"
    (repo / "www").mkdir(parents=True)
    (repo / "compose.yml").write_text(COMPOSE.format(name="api", image=IMAGE, extra=""))
    (repo / "www" / "index.html").write_text("hello-api\n")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "api"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return str(repo)


def services_job(services: list[dict], after: list[dict]) -> dict:
    return {"job_name": "test services", "device_type": "docker", "visibility": "public",
            "timeouts": {"job": {"minutes": 4}, "action": {"minutes": 2}, "connection": {"seconds": 30}},
            "actions": [{"test": {"services": services, "timeout": {"minutes": 2}}}, *after]}


def docker_blocks(*definitions: dict) -> list[dict]:
    blocks: list[dict] = [
        {"deploy": {"to": "docker", "image": {"name": IMAGE, "local": True}, "os": "debian"}},
        {"boot": {"method": "docker", "command": "sh", "prompts": ["/ # "], "timeout": {"minutes": 1}}},
    ]
    for index, definition in enumerate(definitions):
        if index:
            blocks.append({"command": {"name": "stop_test_services"}})
        blocks.append({"test": {"definitions": [definition], "timeout": {"minutes": 1}}})
    return blocks


def networks(daemon) -> list[str]:
    return sorted(daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.split())


def assert_nothing_left(daemon, marker: str) -> None:
    assert_clean(daemon, marker)
    assert networks(daemon) == ["host", "none"]
    assert daemon.docker("volume", "ls", "--quiet").stdout.split() == []


def test_the_docker_device_reads_from_the_services_until_they_stop(tmp_path, dockerd):  # noqa: F811
    before = host_state()
    services = [
        {"name": "web", "from": "url", "compression": "gz", "path": "web/docker-compose.yaml", "service": "web",
         "repository": web_tarball(tmp_path, COMPOSE.format(name="web", image=IMAGE, extra=NOT_STARTED))},
        {"name": "api", "from": "git", "repository": api_repository(tmp_path), "path": "compose.yml"},
    ]
    reach = inline("reach", [
        "lava-test-case web --shell sh -c 'wget -q -O- http://web/ | grep -q hello-web'",
        "lava-test-case api --shell sh -c 'wget -q -O- http://api/ | grep -q hello-api'",
    ])
    gone = inline("gone", ["lava-test-case web-gone --shell sh -c '! wget -q -T 3 -O- http://web/'"])
    job = services_job(services, docker_blocks(reach, gone))
    proc, records, _ = run_lava(tmp_path, job, services_device(tmp_path), timeout=300,
                                dispatcher_extra={"docker_host": dockerd.host})
    assert proc.returncode == 0, proc.stderr[-4000:]
    found = {(r["definition"], r["case"]): r for r in results(records)}
    assert found[("0_reach", "web")]["result"] == "pass"
    assert found[("0_reach", "api")]["result"] == "pass"
    assert found[("0_gone", "web-gone")]["result"] == "pass"  # after stop_test_services
    started = found[("lava", "start-test-services")]["extra"]
    assert sorted(started) == ["api", "web"]  # `service: web`: the file's idle service did not start
    assert all(entry["status"] == "running" for entry in started.values())
    assert all(address for entry in started.values() for address in entry["addresses"].values())
    assert job_result(records)["result"] == "pass"
    assert_nothing_left(dockerd, str(tmp_path))
    assert host_state() == before


def test_services_stop_when_the_job_fails(tmp_path, dockerd):  # noqa: F811
    services = [{"name": "web", "from": "url", "path": "web/docker-compose.yaml",
                 "repository": web_tarball(tmp_path, COMPOSE.format(name="web", image=IMAGE, extra=""))}]
    missing = {"deploy": {"to": "docker", "image": {"name": "lava/nothing-here:1", "local": True}, "os": "debian"}}
    proc, records, _ = run_lava(tmp_path, services_job(services, [missing]), services_device(tmp_path),
                                timeout=300, dispatcher_extra={"docker_host": dockerd.host})
    assert proc.returncode != 0
    assert "lava/nothing-here:1" in job_result(records)["error_msg"]
    assert any(str(r["msg"]).endswith("-1' stopped and removed") for r in records)  # by finalize
    assert_nothing_left(dockerd, str(tmp_path))


HOSTILE = COMPOSE.format(name="web", image=IMAGE, extra="""    privileged: true
    network_mode: host
  spy:
    image: lava/busybox:1
    pid: host
    volumes: ["/etc:/host-etc", "../../..:/up"]
    env_file: [/etc/hostname]
""")


def test_a_compose_file_that_reaches_the_worker_is_refused(tmp_path, dockerd):  # noqa: F811
    services = [{"name": "web", "from": "url", "path": "web/docker-compose.yaml",
                 "repository": web_tarball(tmp_path, HOSTILE)}]
    proc, records, _ = run_lava(tmp_path, services_job(services, []), services_device(tmp_path),
                                timeout=300, dispatcher_extra={"docker_host": dockerd.host})
    assert proc.returncode != 0
    error = job_result(records)["error_msg"]
    for expected in ("services[0] ('web'): web/docker-compose.yaml asks for what a job may not have",
                     "docker-compose.yaml: services.spy.env_file[0]: env_file '/etc/hostname' is outside",
                     "services.web.privileged: privileged mode", "services.web.network_mode: 'host'",
                     "services.spy.pid: 'host'", "services.spy.volumes[0]: bind mount '/etc'",
                     "services.spy.volumes[1]: bind mount"):
        assert expected in error, error
    assert_nothing_left(dockerd, str(tmp_path))


def test_a_device_must_allow_test_services(tmp_path):
    services = [{"name": "web", "from": "url", "path": "docker-compose.yaml", "repository": "file:///nowhere.tar"}]
    proc, records, _ = run_lava(tmp_path, services_job(services, []), services_device(tmp_path, allow=False),
                                "--validate")
    assert proc.returncode != 0
    assert "allow_test_services = true" in job_result(records)["error_msg"]


def test_stop_test_services_needs_services_before_it(tmp_path):
    job = services_job([{"name": "web", "from": "url", "path": "c.yaml", "repository": "file:///nowhere.tar"}], [])
    job["actions"].insert(0, {"command": {"name": "stop_test_services"}})
    proc, records, _ = run_lava(tmp_path, job, services_device(tmp_path), "--validate")
    assert proc.returncode != 0
    assert "no test block with 'services' comes before this command" in job_result(records)["error_msg"]


@pytest.mark.skipif(not (CORPUS / "jobs" / "verdicts.json").is_file(), reason="../shared/corpus is not there")
def test_the_reference_services_job_completes(tmp_path):
    """share/corpus-run.py's adaptation: a file:// gzip tarball and a local git repository, on its dockerd."""
    reason = private_dockerd.available()
    if reason:
        pytest.skip(reason)
    outcome, = run_all(CORPUS, ["jobs/dispatcher/docker-test-services.yaml"], keep=tmp_path)
    assert outcome.state == "Complete", outcome.detail
    log = next(tmp_path.glob("*/log.jsonl")).read_text()
    assert "test service 'srv1'" in log and "test service 'srv2'" in log and "stopped and removed" in log
    assert subprocess.run(["pgrep", "-f", "lava-cr-dk-"], capture_output=True).returncode != 0  # its dockerd is gone


def container_names(daemon) -> list[str]:
    return sorted(daemon.docker("ps", "--all", "--format", "{{.Names}}").stdout.split())


def lava_run_pid(worker_dir, job_id: int) -> int:
    return json.loads((worker_dir / "jobs" / str(job_id) / "state.json").read_text())["pid"]


def test_the_worker_sweeps_what_a_killed_lava_run_left(tmp_path, dockerd):  # noqa: F811
    """kill -9 of lava-run: the worker removes the job's services and device container, reaped or after a restart."""
    lava_run = Path(sys.executable).parent / "lava-run"
    if not lava_run.exists():
        pytest.skip("lava-run is not installed in this virtualenv")
    before = host_state()
    tarball = web_tarball(tmp_path, COMPOSE.format(name="web", image=IMAGE, extra=""))
    services = [{"name": "web", "from": "url", "compression": "gz", "path": "web/docker-compose.yaml",
                 "repository": tarball}]
    hold = inline("hold", ["lava-test-case web --shell sh -c 'wget -q -O- http://web/ | grep -q hello-web'",
                           "sleep 600"])
    blocks = docker_blocks(hold)
    blocks[-1]["test"]["timeout"] = {"minutes": 3}  # killed long before
    job = yaml.safe_dump(services_job(services, blocks))
    dispatcher = write_dispatcher_config(tmp_path, {"docker_host": dockerd.host}).read_text()
    device = services_device(tmp_path).read_text()
    master = FakeMaster()
    worker_args = ("--lava-run", str(lava_run), "--allow-file-dir", str(tmp_path))
    workers = [start_worker(tmp_path, master.url, *worker_args)]
    try:
        master.wait_for("hello")
        for job_id in (31, 32):
            master.send("start", job_id=job_id, definition=job, device=device, dispatcher=dispatcher, env="", env_dut="")

        def web_read(job_id: int) -> bool:
            master.serve(0.2)
            return any('"case": "web"' in line and '"pass"' in line for line in master.stored.get(job_id, []))

        assert wait_until(lambda: web_read(31) and web_read(32), 240, step=0), master.kinds()[-10:]
        assert len(container_names(dockerd)) == 4  # per job: the web service and the docker device
        assert networks(dockerd) == ["host", "lava-t-31_default", "lava-t-32_default", "none"]

        # reaped by the worker that spawned it
        os.kill(lava_run_pid(tmp_path / "worker", 32), signal.SIGKILL)
        end = master.wait_for("end", job_id=32, timeout=120)
        assert (end["result"], end["error_type"]) == ("fail", "Bug")
        assert end["error_msg"] == "lava-run ended without a result (killed by SIGKILL)"
        assert not any("lava-t-32" in name for name in container_names(dockerd) + networks(dockerd))
        assert networks(dockerd) == ["host", "lava-t-31_default", "none"]  # job 31's services still run

        # ended while the worker was away: swept by the next worker at its start
        workers[0].kill()
        workers[0].wait(10)
        os.kill(lava_run_pid(tmp_path / "worker", 31), signal.SIGKILL)
        workers.append(start_worker(tmp_path, master.url, *worker_args))
        end = master.wait_for("end", job_id=31, timeout=120)
        assert (end["result"], end["error_type"]) == ("fail", "Bug")
        assert end["error_msg"] == "lava-run ended without a result (exit code unknown)"
        assert_nothing_left(dockerd, str(tmp_path / "worker" / "jobs"))
        log = (tmp_path / "worker.log").read_text()
        assert "job 32: lava-run died without finishing; removed the job's containers: lava-t-32-" in log
        assert "removed the test services of compose project 'lava-t-31'" in log
    finally:
        for process in workers:
            stop(process)
        master.close()
    assert host_state() == before

"""Test services' rules without a daemon: the job schema, the compose policy, the containers' networks.

The real path (docker-compose on a private dockerd) is tests/dispatcher/test_test_services.py.
"""

from __future__ import annotations

import pytest

from lava_common.schemas import JobSchemaError, validate_job
from lava_dispatcher.compose_cli import project_name, with_service_networks
from lava_dispatcher.compose_policy import config_errors, source_errors


def services_job(*services: dict) -> dict:
    return {"job_name": "services", "device_type": "docker", "visibility": "public",
            "timeouts": {"job": {"minutes": 5}}, "actions": [{"test": {"services": list(services)}}]}


def schema_errors(job: dict) -> list[str]:
    with pytest.raises(JobSchemaError) as info:
        validate_job(job)
    return [str(issue) for issue in info.value.errors]


def test_the_reference_entries_are_valid():
    validate_job(services_job(
        {"name": "srv1", "from": "url", "repository": "https://example.com/srv1.tar.gz", "compression": "gz",
         "path": "docker-compose.yaml", "service": "srv1"},
        {"name": "srv2", "from": "git", "repository": "https://example.com/org/srv2.git", "path": "docker-compose.yml",
         "branch": "main"}))


def test_bad_entries_are_refused_with_their_path():
    at = "actions[0].test.services"
    assert schema_errors(services_job(
        {"name": "a/b", "from": "svn", "repository": "x", "path": "c.yaml"},
        {"name": "b", "from": "url", "repository": "ftp://h/b.tgz", "path": "../c.yaml", "branch": "main"},
        {"name": "c", "from": "git", "repository": "--upload-pack=touch /tmp/x", "path": "c.yaml",
         "compression": "gz", "revision": "-x", "service": "-d"},
        {"name": "c", "from": "git", "repository": "r", "path": "/etc/c.yaml"},
    )) == [
        f"{at}[0].name: may only use letters, digits, '-', '_' and '.', got 'a/b'",
        f"{at}[0].from: unknown service source 'svn'; known: git, url",
        f"{at}[1].repository: 'from: url' needs an http, https or file URL, got 'ftp://h/b.tgz'",
        f"{at}[1].branch: only a 'from: git' service has a branch or revision",
        f"{at}[2].service: must be a docker-compose service name (letters, digits, '_', '.', '-'), got '-d'",
        f"{at}[2].repository: must not start with '-'",
        f"{at}[2].revision: must not start with '-'",
        f"{at}[2].compression: only a 'from: url' service (a tarball) has a compression",
        f"{at}[3].name: duplicate test service name 'c'",
        f"{at}[1].path: must not contain '..': the path would climb out of the job's scratch space",
        f"{at}[3].path: must be a relative path (an absolute path leaves the job's scratch space)",
    ]


def test_a_contained_compose_file_passes(tmp_path):
    (tmp_path / "www").mkdir()
    config = {"services": {
        "web": {"image": "busybox", "volumes": [f"{tmp_path}/www:/www:ro", "data:/data", "/cache"],
                "cap_add": ["NET_ADMIN"], "security_opt": ["no-new-privileges:true"], "network_mode": "service:db",
                "build": {"context": str(tmp_path), "dockerfile": "Dockerfile"}, "ports": ["8080:80"]},
        "db": {"image": "busybox", "tmpfs": ["/run"], "logging": {"driver": "json-file"}}},
        "volumes": {"data": {}, "scratch": {"driver_opts": {"type": "tmpfs", "device": "tmpfs"}}},
        "networks": {"back": {"internal": True}}}
    assert config_errors(config, tmp_path) == []


def test_what_reaches_the_worker_is_refused(tmp_path):
    (tmp_path / "escape").symlink_to("/etc")
    config = {"services": {"web": {
        "privileged": True, "network_mode": "host", "pid": "host", "ipc": "container:other", "devices": ["/dev/kvm"],
        "cap_add": ["SYS_ADMIN"], "security_opt": ["apparmor=unconfined"], "logging": {"driver": "syslog"},
        "volumes": ["/var/run/docker.sock:/s", f"{tmp_path}/escape:/e", {"type": "bind", "source": "/", "target": "/h"}],
        "volumes_from": ["container:other"], "build": {"context": "/", "network": "host"}, "cgroup_parent": "/",
        "deploy": {"resources": {"reservations": {"devices": [{"capabilities": ["gpu"]}]}}},
    }}, "volumes": {"etc": {"driver_opts": {"type": "none", "o": "bind", "device": "/etc"}}, "old": {"external": True}},
        "networks": {"lan": {"driver": "macvlan"}, "br": {"driver_opts": {"com.docker.network.bridge.name": "docker0"}},
                     "wide": {"ipam": {"config": [{"subnet": "10.0.0.0/8"}]}}},
        "secrets": {"key": {"file": "/etc/ssh/ssh_host_rsa_key"}}}
    errors = config_errors(config, tmp_path)
    for expected in [
        "services.web.privileged: privileged mode", "services.web.devices: host devices",
        "services.web.cgroup_parent:", "services.web.network_mode: 'host'", "services.web.pid: 'host'",
        "services.web.ipc: 'container:other'", "services.web.cap_add: 'SYS_ADMIN'",
        "services.web.security_opt: 'apparmor=unconfined'", "services.web.logging.driver: 'syslog'",
        "services.web.volumes[0]: bind mount '/var/run/docker.sock' is outside the service's folder",
        f"services.web.volumes[1]: bind mount '{tmp_path}/escape' is outside",  # a symbolic link out
        "services.web.volumes[2]: bind mount '/' is outside", "services.web.volumes_from: 'container:other'",
        "services.web.deploy: device reservations", "services.web.build.context: build context '/' is outside",
        "services.web.build.network: 'host'", "volumes.etc.driver_opts: only a tmpfs", "volumes.old.external:",
        "networks.lan.driver: 'macvlan'", "networks.br.driver_opts:", "networks.wide.ipam:",
        "secrets.key.file: secret file '/etc/ssh/ssh_host_rsa_key' is outside",
    ]:
        assert any(error.startswith(expected) for error in errors), (expected, errors)
    assert len(errors) == 22, errors


def test_files_that_docker_compose_config_would_read_and_hide(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "docker-compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    env_file: [ok.env, /etc/shadow, '${HOME}/.env']\n"
        "  more:\n    extends: {file: sub/base.yml, service: base}\n")
    (tmp_path / "sub" / "base.yml").write_text("services:\n  base:\n    env_file: ../../outside.env\n")
    assert source_errors(tmp_path / "docker-compose.yaml", tmp_path) == [
        "docker-compose.yaml: services.web.env_file[1]: env_file '/etc/shadow' is outside the service's folder: "
        "a job may not reach the worker's files",
        "docker-compose.yaml: services.web.env_file[2]: env_file '${HOME}/.env': no variables in a host path",
        "sub/base.yml: services.base.env_file[0]: env_file '../../outside.env' is outside the service's folder: "
        "a job may not reach the worker's files",
    ]


@pytest.mark.parametrize("options,networks,expected", [
    (["--network", "none", "--cpus", "1"], ["p_default", "p_back"],
     (["--network", "p_default", "--cpus", "1"], ["p_back"])),
    (["--network=none"], ["p_default"], (["--network", "p_default"], [])),
    (["--network", "lab"], ["p_default"], (["--network", "lab"], ["p_default"])),
    (["--network", "host"], ["p_default"], (["--network", "host"], [])),
    (["--network", "none"], [], (["--network", "none"], [])),
])
def test_job_containers_join_the_services_networks(options, networks, expected):
    assert with_service_networks(options, networks) == expected


def test_project_names_are_the_jobs():
    assert project_name("", "42") == "lava-42"
    assert project_name("Lab.A ", "12.1") == "lava-lab-a-12-1"  # a MultiNode sub-job: never job 121's

"""``postprocess: docker:`` of ``deploy: to: downloads`` talks to the dispatcher configuration's docker.

A unit test with a stand-in docker client (a script that records what it was given); the real path
(a private dockerd, the reference's qemu-download-postprocess.yaml) is share/corpus-run.py's.
"""

from __future__ import annotations

import stat

from .helpers import HERE, job_result, run_lava


def test_postprocess_uses_the_configured_docker_host_and_binary(tmp_path):
    record = tmp_path / "docker-called"
    client = tmp_path / "fake-docker"
    client.write_text(f'#!/bin/sh\necho "$DOCKER_HOST $*" > {record}\n')
    client.chmod(client.stat().st_mode | stat.S_IXUSR)
    payload = tmp_path / "rootfs.img"
    payload.write_bytes(b"disk")
    job = {
        "job_name": "postprocess", "device_type": "qemu", "visibility": "public",
        "timeouts": {"job": {"minutes": 2}, "action": {"minutes": 1}},
        "actions": [{"deploy": {"to": "downloads", "images": {"rootfs": {"url": f"file://{payload}"}},
                                "postprocess": {"docker": {"image": "debian", "steps": ["ls -l"]}}}}],
    }
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "qemu-x86_64.yaml", timeout=120, dispatcher_extra={
        "docker_host": "unix:///run/lab/docker.sock", "docker_binary": str(client)})
    assert proc.returncode == 0, job_result(records) if records else proc.stderr[-1500:]
    called = record.read_text()
    assert called.startswith("unix:///run/lab/docker.sock run --rm --network none -v "), called
    assert " debian sh -e -c ls -l" in called

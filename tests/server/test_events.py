"""The event stream: emitted on every change, published on ZeroMQ PUB and /ws/, read by the real lavacli."""

import asyncio
import json
import queue
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import zmq
from django.contrib.auth.models import User

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import Device, Worker
from lava_scheduler.lab.states import DeviceHealth, DeviceState
from lava_scheduler.logs.ingest import store_log_lines
from lava_scheduler.publisher import messages as event_messages
from lava_server.accounts.models import AuthToken
from lava_server.event_stream import websocket
from tests.server.live_lab import BIN, LAVACLI, Cli, LiveLab, free_port, start_web, wait_for

RESULT_LINE = '- {"dt": "2026-11-30T00:00:00", "lvl": "results", "msg": {"definition": "smoke", "case": "boot", "result": "pass"}}'


def received(sock: zmq.Socket, timeout_ms: int = 3000) -> list[list[bytes]]:
    messages = []
    while sock.poll(timeout_ms):
        messages.append(sock.recv_multipart())
        timeout_ms = 300
    return messages


def make_job(user, device_type, public: bool = True, description: str = "events job") -> TestJob:
    return TestJob.objects.create(submitter=user, requested_device_type=device_type, definition="job_name: x",
                                  description=description, is_public=public)


def run_through(job: TestJob, device: Device) -> None:
    job.go_state_scheduled(Device.objects.get(pk=device.pk))
    job.go_state_running()
    store_log_lines(job.pk, 0, [RESULT_LINE])
    job.go_state_finished(JobHealth.COMPLETE)


@pytest.mark.django_db(transaction=True)
def test_changes_are_emitted_in_the_reference_format(settings, user, device):
    settings.EVENT_INTERNAL = f"tcp://127.0.0.1:{free_port()}"
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.bind(settings.EVENT_INTERNAL)
    try:
        job = make_job(user, device.device_type)
        run_through(job, device)
        worker = Worker.objects.get(pk=device.worker_host_id)
        worker.go_state_offline()
        worker.save()
        messages = received(pull)
    finally:
        pull.close(0)
    assert all(len(m) == 5 for m in messages)
    events = [(m[0].decode(), json.loads(m[4])) for m in messages]
    jobs = [d for t, d in events if t == "org.lavasoftware.testjob"]
    assert [(d["state"], d["health"]) for d in jobs] == [
        ("Submitted", "Unknown"), ("Scheduled", "Unknown"), ("Running", "Unknown"), ("Finished", "Complete")]
    assert jobs[-1]["job"] == str(job.pk) and jobs[-1]["device"] == "qemu-01" and jobs[-1]["worker"] == "worker-1"
    assert jobs[-1]["submitter"] == "alice" and jobs[-1]["device_type"] == "qemu" and "end_time" in jobs[-1]
    devices = [d for t, d in events if t == "org.lavasoftware.device"]
    assert [(d["state"], d.get("job")) for d in devices] == [
        ("Reserved", str(job.pk)), ("Running", str(job.pk)), ("Idle", None)]
    assert {"suite": "smoke", "case": "boot", "result": "pass", "job": str(job.pk)}.items() <= \
        next(d for t, d in events if t == "org.lavasoftware.testcase").items()
    assert ("org.lavasoftware.worker", {"hostname": "worker-1", "health": "Active", "state": "Offline"}) in events
    assert messages[0][3] == b"alice"


def test_job_and_device_data_are_json_dumps_of_the_reference_fields():
    """The job and device events are written as text directly: byte for byte json.dumps's output."""
    when = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    plain = SimpleNamespace(health=JobHealth.UNKNOWN, state=JobState.SCHEDULED, display_id="12", description="bench",
                            priority=50, submit_time=when, health_check=False, sub_id="", actual_device_id="qemu-01",
                            requested_device_type_id="qemu", start_time=None, end_time=None)
    finished = SimpleNamespace(**{**vars(plain), "health": JobHealth.INCOMPLETE, "state": JobState.FINISHED,
                                  "display_id": "13.1", "sub_id": "13.1", "health_check": True,
                                  "description": 'quote " backslash \\ é \u2028 \x00', "start_time": when,
                                  "end_time": when})
    queued = SimpleNamespace(**{**vars(plain), "state": JobState.SUBMITTED, "actual_device_id": None,
                                "requested_device_type_id": None, "submit_time": None})
    for job, submitter, worker in ((plain, "alice", "worker-1"), (finished, "bö\"b", None), (queued, "", "w")):
        expected = {"health": job.health.label, "state": job.state.label, "job": job.display_id,
                    "description": job.description, "priority": job.priority,
                    "submit_time": job.submit_time and job.submit_time.isoformat(), "submitter": submitter,
                    "health_check": job.health_check}
        expected |= {"sub_id": job.sub_id} if job.sub_id else {}
        if job.actual_device_id:
            expected |= {"device": job.actual_device_id} | ({"worker": worker} if worker else {})
        expected |= {"device_type": job.requested_device_type_id} if job.requested_device_type_id else {}
        expected |= {"start_time": when.isoformat(), "end_time": when.isoformat()} if job.end_time else {}
        assert event_messages.job_json(job, submitter, worker) == json.dumps(expected)
    for device, job_id in ((SimpleNamespace(health=DeviceHealth.GOOD, state=DeviceState.RESERVED, hostname="qemu-01",
                                            device_type_id="qemu", worker_host_id="worker-1"), "12"),
                           (SimpleNamespace(health=DeviceHealth.RETIRED, state=DeviceState.IDLE, hostname='a"b',
                                            device_type_id="qemu", worker_host_id=None), None)):
        expected = {"health": device.health.label, "state": device.state.label, "device": device.hostname,
                    "device_type": device.device_type_id, "worker": device.worker_host_id}
        expected |= {"job": job_id} if job_id else {}
        assert event_messages.device_json(device, job_id) == json.dumps(expected)
    uuids = event_messages.random_uuids(500)
    assert len(set(uuids)) == 500
    assert all(re.fullmatch(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u) for u in uuids)


@pytest.mark.django_db(transaction=True)
def test_nothing_is_emitted_when_disabled(settings, user, device):
    settings.EVENT_NOTIFICATION = False
    settings.EVENT_INTERNAL = f"tcp://127.0.0.1:{free_port()}"
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.bind(settings.EVENT_INTERNAL)
    try:
        make_job(user, device.device_type)
        assert received(pull, 500) == []
    finally:
        pull.close(0)


class Listener:
    """``lavacli events ...`` running in the background; its output lines in a queue."""

    def __init__(self, cli: Cli, *args: str):
        self.process = subprocess.Popen([LAVACLI, *args], env=dict(cli.env, PYTHONUNBUFFERED="1"),
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, needle: str, timeout: float = 15) -> str:
        """The first line so far, or to come, that holds ``needle``."""
        for line in self.seen:
            if needle in line:
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"no line with {needle!r} in {self.seen}")

    def drain(self, seconds: float = 1.0) -> list[str]:
        time.sleep(seconds)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def events_lab(tmp_path, settings):
    if LAVACLI is None:
        pytest.skip("lavacli is not installed in the venv")
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    settings.EVENT_INTERNAL = lab.env["LAVA_EVENT_INTERNAL"] = f"tcp://127.0.0.1:{free_port()}"
    pub = f"tcp://127.0.0.1:{free_port()}"
    front = free_port()
    web = start_web(lab).removesuffix("/RPC2")
    lab._start("publisher", [str(BIN / "lava-server"), "manage", "lava-publisher", "--level", "DEBUG",
                             "--pub", pub, "--websocket", f"127.0.0.1:{front}", "--http-upstream", web])
    lab.front, lab.pub = f"http://127.0.0.1:{front}", pub

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{lab.front}/ws/v1/healthz", timeout=2) as response:
                return json.loads(response.read()) == {"health": "good"}
        except OSError:
            return False

    wait_for(healthy, 30, "publisher up", lab, interval=0.2)
    yield lab
    lab.stop_all()


@pytest.mark.django_db(transaction=True)
def test_lavacli_events_listen_follows_the_lab(events_lab, tmp_path, user, device):
    carol = User.objects.create_user("carol")
    token = AuthToken.objects.create(user=carol).secret
    cli = Cli(tmp_path / "home", f"{events_lab.front}/RPC2")
    cli.identity("carol", "carol", token)
    cli.identity("anonymous")
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(events_lab.pub)
    as_carol = Listener(cli, "-i", "carol", "events", "listen")
    anonymous = Listener(cli, "-i", "anonymous", "events", "listen")
    try:
        as_carol.wait_line("Connecting to")
        anonymous.wait_line("Connecting to")
        # the websocket is up once an event gets through: toggle the device until both see it
        wait_for(lambda: _toggle(device) or ("org.lavasoftware.device" in "".join(as_carol.drain(0.3))
                                             and "org.lavasoftware.device" in "".join(anonymous.drain(0))),
                 20, "listeners connected", events_lab, interval=0.1)
        device.refresh_from_db()

        private = make_job(carol, device.device_type, public=False, description="carol's private job")
        public = make_job(user, device.device_type, description="public job")
        waiter = subprocess.Popen([LAVACLI, "-i", "anonymous", "events", "wait", "job", str(public.pk),
                                   "--state", "FINISHED"], env=cli.env, stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)  # the waiter connects
        run_through(public, device)

        line = as_carol.wait_line(f"[{public.pk}] <qemu-01> state=Finished health=Complete (public job)")
        assert "org.lavasoftware.testjob alice" in line
        as_carol.wait_line(f"[{private.pk}] <??> state=Submitted health=Unknown (carol's private job)")
        as_carol.wait_line('"case": "boot"')
        anonymous.wait_line(f"[{public.pk}] <qemu-01> state=Finished health=Complete")
        assert not any("private" in line for line in anonymous.drain())
        assert waiter.wait(timeout=20) == 0

        topics = [(m[0], json.loads(m[4]).get("job")) for m in received(sub)]
        assert (b"org.lavasoftware.testjob", str(public.pk)) in topics
        assert all(job != str(private.pk) for _, job in topics)
    finally:
        as_carol.stop()
        anonymous.stop()
        sub.close(0)


def _toggle(device: Device) -> None:
    device = Device.objects.get(pk=device.pk)
    device.go_health(DeviceHealth.GOOD if device.health != DeviceHealth.GOOD else DeviceHealth.UNKNOWN, "probe")
    device.save()


@pytest.mark.django_db(transaction=True)
def test_refused_token_and_plain_http_on_the_websocket(events_lab):
    request = urllib.request.Request(f"{events_lab.front}/ws/", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13", "Authorization": "Basic Y2Fyb2w6d3Jvbmc="})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{events_lab.front}/ws/", timeout=5)
    assert info.value.code == 400
    with urllib.request.urlopen(f"{events_lab.front}/api/v0.2/system/version/", timeout=5) as response:
        assert response.status == 200  # relayed to the web server


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_websocket_frames(size):
    payload = b"x" * size
    framed = websocket.frame(websocket.TEXT, payload)
    assert framed[0] == 0x81 and framed.endswith(payload)
    assert len(framed) - size == (2 if size < 126 else 4 if size < 65536 else 10)
    assert websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's example


def test_websocket_reads_masked_client_frames_and_refuses_unmasked():
    async def read(data: bytes):
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await websocket.read_frame(reader)

    mask = b"\x01\x02\x03\x04"
    text = b"ping!"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
    assert asyncio.run(read(bytes([0x89, 0x80 | len(text)]) + mask + masked)) == (websocket.PING, text)
    with pytest.raises(websocket.WebSocketError, match="must be masked"):
        asyncio.run(read(bytes([0x81, len(text)]) + text))

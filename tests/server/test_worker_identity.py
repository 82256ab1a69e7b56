"""A worker is the worker its CURVE key opens, whatever name it gives: a key opens exactly one worker.

Real processes (lava-master with CURVE, lava-scheduler, lava-worker, lava-run) and real key pairs. A
connection holding worker A's key that names itself B receives none of B's jobs or cancels, and
nothing it reports for B's jobs counts; B keeps working beside it.
"""

import io
import json
import time

import pytest
import yaml
import zmq
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

import lava_common
from lava_common.keys import read_key_pair, read_public_key
from lava_common.protocol import decode, encode
from lava_common.worker_identity import routing_identity
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.master.auth import WorkerKeys
from tests.server.live_lab import LiveLab, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FAKE_BOARD = "{% extends 'fake.jinja2' %}\n{% set connection_command = \"env PS1='fake-board# ' sh -i\" %}\n"
# 20 s of output before the prompt: a job that is Running long enough to be reported on by others
SLOW_BOARD = "{% extends 'fake.jinja2' %}\n" + (
    "{% set connection_command = \"sh -c 'for i in $(seq 1 40); do echo tick-$i; sleep 0.5; done; "
    "PS1=fake-board# exec sh -i'\" %}\n"
)
IMPOSTOR_LINE = '- {"dt": "2026-01-01T00:00:00.000000", "lvl": "target", "msg": "IMPOSTOR"}'
REFUSAL = "refused a connection that presents worker worker-a's CURVE key under the name worker-b"


def job_text(seconds: int = 60) -> str:
    return yaml.safe_dump({
        "job_name": "identity", "device_type": "fake", "visibility": "public",
        "timeouts": {"job": {"seconds": seconds}, "action": {"seconds": seconds}},
        "actions": [{"boot": {"method": "minimal", "reset": False, "prompts": ["fake-board#"]}}],
    })  # fmt: skip


@pytest.fixture
def lab(tmp_path, settings):
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    lab.keys = tmp_path / "keys"
    quiet = io.StringIO()
    for name in ("master", "worker-a", "worker-b"):
        call_command("lava-keys", name, str(lab.keys), stdout=quiet)
    DeviceType.objects.create(name="fake")
    for name in ("worker-a", "worker-b"):
        Worker.objects.create(hostname=name)
        call_command("workers", "update", name, "--public-key", str(lab.keys / f"{name}.key"), stdout=quiet)
        lab.add_dispatcher_config(name)
    device = Device.objects.create(hostname="fake-b", device_type_id="fake", worker_host_id="worker-b")
    device.go_health(DeviceHealth.GOOD, "test setup")
    device.save()
    lab.write_dictionary("fake-b", FAKE_BOARD)
    yield lab
    lab.stop_all()


@pytest.fixture
def user(db):
    return User.objects.create_user("mallory-victim")


def curve(lab: LiveLab, key: str) -> list[str]:
    return ["--master-cert", str(lab.keys / "master.key"), "--worker-cert", str(lab.keys / f"{key}.key_secret")]


def start_lab(lab: LiveLab) -> None:
    """lava-master with CURVE, lava-scheduler and the real worker-b."""
    lab.start_master("--master-cert", str(lab.keys / "master.key_secret"))
    lab.start_scheduler()
    lab.start_worker("worker-b", *curve(lab, "worker-b"))
    wait_for(lambda: Worker.objects.get(pk="worker-b").get_state_display() == "Online", 60, "worker-b online", lab)


def log_of(lab: LiveLab, process: str) -> str:
    path = lab.root / f"{process}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def finished(job_id: int):
    job = TestJob.objects.get(pk=job_id)
    return job if job.state == JobState.FINISHED else None


class RawPeer:
    """A DEALER socket with a real key and any routing identity: a hand-made worker that says what it likes."""

    def __init__(self, lab: LiveLab, key: str, identity: bytes):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.IDENTITY, identity)
        self.socket.setsockopt(zmq.LINGER, 0)
        public, secret = read_key_pair(lab.keys / f"{key}.key_secret")
        self.socket.curve_publickey, self.socket.curve_secretkey = public.encode(), secret.encode()
        self.socket.curve_serverkey = read_public_key(lab.keys / "master.key").encode()
        self.socket.connect(lab.master_url)
        self.received: list[dict] = []

    def send(self, kind: str, **fields) -> None:
        self.socket.send(encode(kind, **fields))

    def drain(self, seconds: float) -> list[dict]:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.socket.poll(left * 1000):
                self.received.append(decode(self.socket.recv()))
        return self.received

    def kinds(self) -> set[str]:
        return {message["type"] for message in self.received}

    def report_for(self, job: TestJob) -> None:
        """Everything a worker can say about a job."""
        self.send("hello", version=lava_common.__version__, jobs=[{"id": job.pk, "state": "running"}])
        self.send("heartbeat", jobs=[{"id": job.pk, "state": "finished"}])
        self.send("start-ok", job_id=job.pk)
        for start in range(0, job.log_lines + 2):
            self.send("logs", job_id=job.pk, start=start, lines=[IMPOSTOR_LINE])
        self.send("start-failed", job_id=job.pk, error="IMPOSTOR start failed")
        self.send("end", job_id=job.pk, result="pass", error_type="", error_msg="IMPOSTOR end", errors="IMPOSTOR",
                  description="IMPOSTOR", log_lines=0)

    def close(self) -> None:
        self.socket.close(0)
        self.context.term()


def test_a_lava_worker_with_another_workers_key_gets_none_of_its_jobs(lab, user):
    start_lab(lab)
    # a real lava-worker holding worker-a's key and calling itself worker-b, beside the real worker-b
    lab.start_worker("worker-b", *curve(lab, "worker-a"), label="impostor")
    wait_for(lambda: REFUSAL in log_of(lab, "master"), 30, "the master's refusal", lab)
    wait_for(lambda: "belongs to worker 'worker-a', not 'worker-b'" in log_of(lab, "worker-impostor"), 30,
             "the impostor told why", lab)
    jobs = [submit_job(job_text(), user)[0] for _ in range(2)]
    for job in jobs:
        job = wait_for(lambda job=job: finished(job.pk), 90, f"job {job.pk} finished", lab)
        assert job.get_health_display() == "Complete", lab.logs()
        assert "lava-run started" in log_of(lab, "worker-worker-b")
    impostor_jobs = lab.root / "worker" / "impostor" / "jobs"
    assert not impostor_jobs.exists() or list(impostor_jobs.iterdir()) == []
    assert "lava-run started" not in log_of(lab, "worker-impostor")
    # worker-a's key got worker-a nothing either: it never said hello as itself
    assert Worker.objects.get(pk="worker-a").get_state_display() == "Offline"
    assert Worker.objects.get(pk="worker-b").get_state_display() == "Online"


def test_what_a_key_says_about_another_workers_job_does_not_count(lab, user):
    lab.write_dictionary("fake-b", SLOW_BOARD)
    start_lab(lab)
    (job,) = submit_job(job_text(seconds=120), user)
    wait_for(lambda: TestJob.objects.get(pk=job.pk).state == JobState.RUNNING, 60, "job running", lab)
    peers = {
        "worker-a's key named worker-b": RawPeer(lab, "worker-a", routing_identity("worker-b")),
        "worker-a's key, worker-b's bare name": RawPeer(lab, "worker-a", b"worker-b"),
        "worker-a as itself": RawPeer(lab, "worker-a", routing_identity("worker-a")),
    }
    try:
        for peer in peers.values():
            peer.report_for(TestJob.objects.get(pk=job.pk))
        for peer in peers.values():
            peer.drain(2.0)
        running = TestJob.objects.get(pk=job.pk)
        assert running.state == JobState.RUNNING  # no end, no start failure from anyone else
        call_command("jobs", "cancel", str(job.pk), stdout=io.StringIO())
        job = wait_for(lambda: finished(job.pk), 60, "canceled job finished", lab)
        for peer in peers.values():
            peer.drain(3.0)  # a cancel meant for worker-b has had time to arrive
    finally:
        for peer in peers.values():
            peer.close()
    assert job.get_health_display() == "Canceled", lab.logs()
    assert "IMPOSTOR" not in json.dumps([job.failure_comment, job.error_msg])
    assert not any("IMPOSTOR" in line for line in LogStore(job_output_dir(job)).read())
    for name, peer in peers.items():
        assert not peer.kinds() & {"start", "cancel"}, f"{name} received {peer.kinds()}"
    # the two that claim worker-b are refused outright, and told why; worker-a itself only gets its own answers
    for name in ("worker-a's key named worker-b", "worker-a's key, worker-b's bare name"):
        assert peers[name].kinds() <= {"refused"}, f"{name} received {peers[name].kinds()}"
    assert peers["worker-a's key named worker-b"].kinds() == {"refused"}
    assert peers["worker-a as itself"].kinds() >= {"hello-ok"}
    master_log = log_of(lab, "master")
    assert REFUSAL in master_log and "is not NAME/NONCE" in master_log


def test_a_key_recorded_on_two_workers_opens_neither(lab):
    shared = Worker.objects.get(pk="worker-a").public_key
    Worker.objects.filter(pk="worker-b").update(public_key=shared)  # as a careless database edit would
    keys = WorkerKeys()
    keys.refresh()
    assert keys.owner(shared) is None and not keys.callback("*", shared.encode())
    with pytest.raises(CommandError, match="worker 'worker-a' has this key already"):
        call_command("workers", "update", "worker-b", "--public-key", str(lab.keys / "worker-a.key"))

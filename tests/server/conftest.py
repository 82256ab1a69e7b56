import pytest
from django.contrib.auth.models import User

from lava_scheduler.lab.models import Device, DeviceType, Worker


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("alice", password="alice-password")


@pytest.fixture
def worker(db) -> Worker:
    worker = Worker.objects.create(hostname="worker-1")
    worker.go_state_online("2026.11")
    worker.save()
    return worker


@pytest.fixture
def qemu_type(db) -> DeviceType:
    return DeviceType.objects.create(name="qemu")


@pytest.fixture
def device(qemu_type, worker) -> Device:
    device = Device.objects.create(hostname="qemu-01", device_type=qemu_type, worker_host=worker)
    device.go_health(1, "test setup")  # Unknown
    device.save()
    return device


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # the production hasher costs ~0.5 s of CPU per user created
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

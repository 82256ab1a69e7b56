# the server tests' fixtures (a worker, a qemu device type and device, fast password hashing)
from tests.server.conftest import device, fast_password_hashing, qemu_type, user, worker  # noqa: F401

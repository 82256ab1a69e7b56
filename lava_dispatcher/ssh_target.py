"""A host reached over ssh: where it is and the ssh/scp argument lists that reach it.

Everything comes from the device dictionary (``actions.deploy.methods.ssh``:
``host``, ``port``, ``user``, ``identity_file``, ``options``), which an admin
writes; a job can never add ssh options (``-o ProxyCommand=...`` would run a
shell command on the worker), so the blocks that use ssh refuse those keys.
Every command is an argument list: nothing here goes through a shell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from lava_common.exceptions import ConfigurationError, InfrastructureError
from lava_dispatcher.device import DeviceConfig

# a relative ssh_identity_file (the reference's `dynamic_vm_keys/lava`) is looked up here
KEYS_DIR = Path("/etc/lava-dispatcher")
# what only the device dictionary may set: a job block naming one of these is refused
DICTIONARY_ONLY_KEYS = ("options", "ssh_options", "host", "ssh_host", "port", "ssh_port", "user", "ssh_user",
                        "identity_file", "ssh_identity_file")
# no password or passphrase prompt can ever be answered: fail at once instead of hanging
BATCH = ["-o", "BatchMode=yes"]


class SshTarget(NamedTuple):
    host: str
    port: int
    user: str
    identity_file: Path
    options: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def login(self) -> str:
        return f"{self.user}@{self.host}"

    def with_host(self, host: str) -> SshTarget:
        return self._replace(host=host)

    def ssh_argv(self, *extra: str, tty: bool = False) -> list[str]:
        """``ssh`` to the host; ``extra`` is the remote command (none: a login shell)."""
        # -tt: a terminal on the host whatever ssh thinks of its stdin, so that the shell prompts and echoes
        terminal = ["-tt"] if tty else ["-T"]
        return ["ssh", *BATCH, *self.options, *terminal, "-i", str(self.identity_file), "-p", str(self.port),
                self.login, *extra]

    def probe_argv(self, connect_timeout: int) -> list[str]:
        """A one-shot ``ssh ... true`` that reports why a login fails (our -o come first, and ssh keeps
        the first value of an option: LogLevel=ERROR beats the dictionary's usual LogLevel=FATAL)."""
        return ["ssh", *BATCH, "-o", "LogLevel=ERROR", "-o", f"ConnectTimeout={max(1, connect_timeout)}",
                *self.options, "-T", "-i", str(self.identity_file), "-p", str(self.port), self.login, "true"]

    def scp_argv(self, local: Path, remote_path: str, connect_timeout: int) -> list[str]:
        return ["scp", *BATCH, "-o", "LogLevel=ERROR", "-o", f"ConnectTimeout={max(1, connect_timeout)}",
                *self.options, "-q", "-i", str(self.identity_file), "-P", str(self.port), str(local),
                f"{self.login}:{remote_path}"]


def ssh_settings(device: DeviceConfig) -> dict[str, Any]:
    settings = device.deploy_methods().get("ssh")
    return settings if isinstance(settings, dict) else {}


def ssh_target(device: DeviceConfig, require_host: bool = True) -> SshTarget:
    """The device's ssh settings, checked; ConfigurationError names the dictionary variable."""
    settings = ssh_settings(device)
    host = str(settings.get("host") or "")
    if require_host and not host:
        raise ConfigurationError("the device has no ssh host (device dictionary: ssh_host)")
    if host.startswith("-"):
        raise ConfigurationError(f"ssh host '{host}' must not start with '-' (device dictionary: ssh_host)")
    user = str(settings.get("user") or "root")
    if user.startswith("-") or "@" in user:
        raise ConfigurationError(f"ssh user '{user}' is not a user name (device dictionary: ssh_user)")
    try:
        port = int(settings.get("port") or 22)
    except (TypeError, ValueError):
        raise ConfigurationError(f"ssh port '{settings.get('port')}' is not a number (device dictionary: ssh_port)") from None
    if not 0 < port < 65536:
        raise ConfigurationError(f"ssh port {port} is out of range (device dictionary: ssh_port)")
    options = settings.get("options") or []
    if not isinstance(options, list) or not all(isinstance(o, str | int) for o in options):
        raise ConfigurationError("ssh options must be a list of arguments (device dictionary: ssh_options)")
    identity = Path(str(settings.get("identity_file") or "dynamic_vm_keys/lava"))
    if not identity.is_absolute():
        identity = KEYS_DIR / identity
    return SshTarget(host, port, user, identity, tuple(str(o) for o in options))


def refuse_dictionary_keys(parameters: dict[str, Any], errors: list[str]) -> None:
    """ssh settings in a job block: refused, with where they belong."""
    for key in DICTIONARY_ONLY_KEYS:
        if key in parameters:
            errors.append(f"'{key}' cannot be set by a job: ssh settings come from the device dictionary "
                          "(ssh_host, ssh_port, ssh_user, ssh_identity_file, ssh_options)")


def check_identity(target: SshTarget) -> None:
    if not target.identity_file.is_file():
        raise InfrastructureError(f"ssh identity file {target.identity_file} does not exist on this worker "
                       "(device dictionary: ssh_identity_file)")

"""What a job's docker-compose file may ask of the worker: nothing that leaves the job's folder.

A test service runs on the worker's docker daemon, which runs as root. A
compose file is job text, so everything in it that reaches the host is
refused, each with the field's path and the reason: privileged mode, host
devices and capabilities beyond docker's defaults, the host's (or another
container's) network, PID, IPC or UTS namespace, security profiles turned
off, files of the worker (bind mounts, ``env_file``, secrets, build contexts
outside the service's folder), volumes and networks that are not the job's
own (``external``, driver options that bind a host path or a host bridge,
address plans that could shadow the worker's routes), and log drivers that
write to the host's services. The same rule as for the docker device: what a
container may use on the host comes only from an admin, never from a job.

Two passes: ``source_errors`` reads the files as written, for the paths that
``docker-compose config`` reads and then hides (``env_file`` is folded into
``environment``, ``extends.file`` merged in); ``config_errors`` reads the
configuration ``docker-compose config`` resolved (variables, ``.env``,
``extends`` and relative paths done), which is then the very file started.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lava_common.yaml_loader import YAMLLoadError, load_yaml

# docker's default capability set, and a few that only act inside the container's own namespaces
ALLOWED_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "NET_RAW",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT", "NET_ADMIN", "IPC_LOCK", "SYS_NICE",
})
ALLOWED_LOG_DRIVERS = frozenset({"json-file", "local", "none"})
NETWORK_MODES = frozenset({"none", "default"})  # the daemon's shared `bridge` is not the job's own
BUILD_NETWORKS = frozenset({"none", "default", "bridge"})  # a build's own short-lived container
# service keys that give the container something of the host, whatever their value
REFUSED_KEYS = {
    "privileged": "privileged mode gives the container every device and capability of the worker",
    "devices": "host devices are for the admin to grant (device dictionary), not the job",
    "device_cgroup_rules": "host devices are for the admin to grant (device dictionary), not the job",
    "cgroup_parent": "the container's cgroup is the daemon's choice",
    "volume_driver": "volume drivers other than docker's own may mount host paths",
    "external_links": "links to containers outside the job's compose project",
}
SHARED_NAMESPACES = ("pid", "ipc", "uts", "userns_mode", "cgroup")
EXTENDS_DEPTH = 5
MAX_COMPOSE_BYTES = 1 << 20


class Policy:
    """The errors of one compose file, with paths relative to the service's folder (``root``)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.errors: list[str] = []

    def refuse(self, path: str, reason: str) -> None:
        self.errors.append(f"{path}: {reason}")

    def check_path(self, path: str, value: Any, base: Path, what: str) -> None:
        """A host path (relative to ``base``) must stay inside the service's folder, symbolic links followed."""
        text = str(value)
        if "$" in text:
            self.refuse(path, f"{what} {text!r}: no variables in a host path")
            return
        resolved = (base / Path(text).expanduser()).resolve()
        if not resolved.is_relative_to(self.root):
            self.refuse(path, f"{what} {text!r} is outside the service's folder: a job may not reach the worker's files")


# -- the files as written ----------------------------------------------------------------------


def _load(path: Path) -> Any:
    if path.stat().st_size > MAX_COMPOSE_BYTES:
        raise YAMLLoadError(f"more than {MAX_COMPOSE_BYTES} bytes")
    return load_yaml(path.read_bytes(), max_bytes=MAX_COMPOSE_BYTES)


def _services(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        return {}
    services = document.get("services", document if "version" not in document else {})  # version 1: top level
    return services if isinstance(services, dict) else {}


def source_errors(compose_file: Path, root: Path) -> list[str]:
    """``env_file`` and ``extends.file`` of the file as written (and of the files it extends)."""
    policy = Policy(root)
    _check_source(policy, compose_file, compose_file.name, 0, set())
    return policy.errors


def _check_source(policy: Policy, compose_file: Path, label: str, depth: int, seen: set[Path]) -> None:
    if compose_file in seen or depth > EXTENDS_DEPTH:
        return
    seen.add(compose_file)
    try:
        document = _load(compose_file)
    except (OSError, YAMLLoadError) as exc:
        policy.refuse(label, f"cannot be read as YAML: {exc}")
        return
    base = compose_file.parent
    for name, service in _services(document).items():
        if not isinstance(service, dict):
            continue
        at = f"{label}: services.{name}"
        env_files = service.get("env_file")
        for index, env_file in enumerate(env_files if isinstance(env_files, list) else [env_files] if env_files else []):
            policy.check_path(f"{at}.env_file[{index}]", env_file, base, "env_file")
        extends = service.get("extends")
        if isinstance(extends, dict) and extends.get("file"):
            before = len(policy.errors)
            policy.check_path(f"{at}.extends.file", extends["file"], base, "extended file")
            if len(policy.errors) == before:
                target = (base / str(extends["file"])).resolve()
                _check_source(policy, target, str(target.relative_to(policy.root)), depth + 1, seen)


# -- the resolved configuration ----------------------------------------------------------------


def config_errors(config: Any, root: Path) -> list[str]:
    """Everything in ``docker-compose config``'s output that would reach the worker."""
    policy = Policy(root)
    if not isinstance(config, dict):
        return ["the resolved compose configuration is not a mapping"]
    services = config.get("services") or {}
    names = set(services) if isinstance(services, dict) else set()
    for name, service in (services.items() if isinstance(services, dict) else ()):
        if isinstance(service, dict):
            _check_service(policy, f"services.{name}", service, names)
    for kind in ("volumes", "networks", "secrets", "configs"):
        entries = config.get(kind) or {}
        for name, entry in (entries.items() if isinstance(entries, dict) else ()):
            _check_top_level(policy, kind, f"{kind}.{name}", entry if isinstance(entry, dict) else {})
    return policy.errors


def _check_service(policy: Policy, at: str, service: dict[str, Any], names: set[str]) -> None:
    for key, reason in REFUSED_KEYS.items():
        if service.get(key):
            policy.refuse(f"{at}.{key}", reason)
    mode = str(service.get("network_mode") or "default")
    if mode not in NETWORK_MODES and not (mode.startswith("service:") and mode[8:] in names):
        policy.refuse(f"{at}.network_mode", f"'{mode}': only the job's own networks ({', '.join(sorted(NETWORK_MODES))}"
                      ", service:NAME)")
    for key in SHARED_NAMESPACES:
        value = str(service.get(key) or "")
        if value == "host" or value.startswith("container:"):
            policy.refuse(f"{at}.{key}", f"'{value}' shares a namespace of the worker or of a container outside the job")
    for capability in service.get("cap_add") or []:
        if str(capability).upper().removeprefix("CAP_") not in ALLOWED_CAPABILITIES:
            policy.refuse(f"{at}.cap_add", f"'{capability}' is a capability over the worker's kernel")
    for option in service.get("security_opt") or []:
        if not str(option).startswith("no-new-privileges"):
            policy.refuse(f"{at}.security_opt", f"'{option}': only no-new-privileges (the worker's confinement stays)")
    driver = str((service.get("logging") or {}).get("driver") or "json-file")
    if driver not in ALLOWED_LOG_DRIVERS:
        policy.refuse(f"{at}.logging.driver", f"'{driver}' writes to a service of the host")
    for index, volume in enumerate(service.get("volumes") or []):
        _check_volume(policy, f"{at}.volumes[{index}]", volume)
    for entry in service.get("volumes_from") or []:
        if str(entry).startswith("container:"):
            policy.refuse(f"{at}.volumes_from", f"'{entry}' is a container outside the job")
    if _has_devices(service.get("deploy")):
        policy.refuse(f"{at}.deploy", "device reservations give the container host devices")
    build = service.get("build")
    if build is not None:
        _check_build(policy, f"{at}.build", build if isinstance(build, dict) else {"context": build})


def _check_volume(policy: Policy, at: str, volume: Any) -> None:
    if isinstance(volume, dict):
        kind, source = str(volume.get("type") or "volume"), volume.get("source")
    else:
        parts = str(volume).split(":")
        source = parts[0] if len(parts) > 1 else None  # a single part is an anonymous volume
        kind = "bind" if source and source.startswith(("/", ".", "~")) else "volume"
    if kind == "bind":
        policy.check_path(at, source or "", policy.root, "bind mount")
    elif kind not in ("volume", "tmpfs"):
        policy.refuse(at, f"a '{kind}' mount reaches the host")


def _check_build(policy: Policy, at: str, build: dict[str, Any]) -> None:
    context = str(build.get("context") or ".")
    if "://" not in context and not context.startswith("git@"):  # a remote context holds no worker file
        policy.check_path(f"{at}.context", context, policy.root, "build context")
        dockerfile = build.get("dockerfile")
        if dockerfile:
            policy.check_path(f"{at}.dockerfile", dockerfile, policy.root / context, "Dockerfile")
    network = str(build.get("network") or "default")
    if network not in BUILD_NETWORKS:
        policy.refuse(f"{at}.network", f"'{network}': a build uses the job's networks only")


def _has_devices(value: Any) -> bool:
    if isinstance(value, dict):
        return "devices" in value or any(_has_devices(inner) for inner in value.values())
    return False


def _check_top_level(policy: Policy, kind: str, at: str, entry: dict[str, Any]) -> None:
    if entry.get("external"):
        policy.refuse(f"{at}.external", f"an external {kind[:-1]} belongs to the worker or to another job")
    if kind in ("secrets", "configs") and entry.get("file"):
        policy.check_path(f"{at}.file", entry["file"], policy.root, f"{kind[:-1]} file")
    if kind == "volumes":
        if str(entry.get("driver") or "local") != "local":
            policy.refuse(f"{at}.driver", f"'{entry['driver']}': only docker's local volumes")
        options = entry.get("driver_opts") or {}
        if options and str(options.get("type")) != "tmpfs":
            policy.refuse(f"{at}.driver_opts", "only a tmpfs: other options mount host paths or devices")
    if kind == "networks":
        if str(entry.get("driver") or "bridge") != "bridge":
            policy.refuse(f"{at}.driver", f"'{entry['driver']}': only a bridge of the job's own")
        for key, reason in (("driver_opts", "bridge options can attach the network to a bridge of the worker"),
                            ("ipam", "an address plan of its own can shadow the worker's routes")):
            if entry.get(key):
                policy.refuse(f"{at}.{key}", reason)


def compose_services(config: Any) -> Iterator[str]:
    """The service names of a resolved configuration."""
    services = config.get("services") if isinstance(config, dict) else None
    yield from (str(name) for name in (services or {}))

"""Build the lava-test-shell overlay: the tree put at ``/lava-<job id>`` on the board.

    from lava_dispatcher.test_shell.overlay import OverlaySpec, build_overlay, pack_overlay_tarball
    from lava_dispatcher.test_shell.overlay import append_overlay_to_cpio     # (from ramdisk.py)

    spec = OverlaySpec(job_id="42", stages={0: fetch_definitions(block["definitions"], scratch / "defs0")},
                       environment={"FOO": "1"}, secrets={"TOKEN": "x"}, sh_cmd="/bin/sh",
                       target_ip="10.0.2.15", device_hostname="qemu01", device_type="qemu")
    built = build_overlay(root, spec)    # root/lava-42/... ; returns BuiltOverlay
    built.results_dir                    # "/lava-42" (spec.results_dir overrides)
    built.runs[0]                        # list[signals.RunInfo] for SignalParser(runs=...) of stage 0
    built.runner_command(0)              # "/lava-42/bin/lava-test-runner /lava-42/0"
    pack_overlay_tarball(root, tarball)  # tar.gz of root's content, extract at / on the board
    append_overlay_to_cpio(ramdisk_in, root, ramdisk_out, compression=None)   # same compression as in

Layout (reference §6.1): ``bin/lava-*`` (shebang = sh_cmd, TARGET_IP/TARGET_MAC written into
lava-target-ip/-mac), ``environment`` (export lines: job environment, LAVA_JOB_ID,
LAVA_DISPATCHER_IP, LAVA_JOB_TAGS, LAVA_DISPATCHER_PREFIX, LAVA_DEVICE_HOSTNAME, LAVA_DEVICE_TYPE,
LAVA_DEVICE_INFO_<i>_<KEY>, LAVA_STATIC_INFO_..., LAVA_STORAGE_INFO_...), ``secrets``
(KEY='value'), ``<stage>/lava-test-runner.conf``, ``<stage>/tests/<i>_<name>/`` = the fetched
checkout + testdef.yaml, uuid, testdef_metadata, install.sh (when there is anything to install),
run.sh. The shell on the board: ``. /lava-42/environment`` then ``lava-test-runner /lava-42/0``.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lava_common.exceptions import JobError
from lava_common.records import field, record
from lava_common.safe_paths import inside
from lava_common.yaml_loader import dump_yaml
from lava_dispatcher.local_files import LocalFiles, local_path

from .definitions import FetchedDefinition, git
from .ramdisk import append_overlay_to_cpio, pack_overlay_tarball
from .signals import RunInfo

__all__ = [
    "BuiltOverlay", "MultinodeIdentity", "OverlaySpec", "append_overlay_to_cpio", "build_overlay",
    "pack_overlay_tarball", "scripts_dir",
]

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INSTALL_PARTS = ("keys", "sources", "deps", "steps", "git-repos")
# installed for MultiNode jobs only: outside a group they could only hang waiting for a reply
MULTINODE_SCRIPTS = frozenset({
    "lava-multinode-functions", "lava-send", "lava-wait", "lava-wait-all", "lava-sync", "lava-self",
    "lava-role", "lava-group", "lava-network", "lava-multinode-network-up",
})


@record(frozen=True)
class MultinodeIdentity:
    """Who this job is in its MultiNode group: written into the helpers (lava-self, lava-role, lava-group)."""

    job_id: str
    role: str
    roles: Mapping[str, str]  # job id -> role, every member
    network_address: str = ""  # a.b.c.d/prefix on the group's own network, if it has one
    network_mac: str = ""  # of the board's card on that network

    def shell_values(self) -> dict[str, str]:
        # job ids in numeric order (they are numbers; "10" after "9")
        members = sorted(self.roles.items(), key=lambda item: (len(item[0]), item[0]))
        group = "\n".join(f"{job}\t{role}" for job, role in members)
        return {"LAVA_MULTI_NODE_SELF": self.job_id, "LAVA_MULTI_NODE_ROLE": self.role,
                "LAVA_MULTI_NODE_GROUP": group}


@record
class OverlaySpec:
    """Everything the overlay depends on; ``stages`` maps a test stage index to its definitions."""

    job_id: str
    stages: Mapping[int, Sequence[FetchedDefinition]] = field(default_factory=dict)
    results_dir: str | None = None
    sh_cmd: str = "/bin/sh"
    environment: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, Any] = field(default_factory=dict)
    device_info: Sequence[Mapping[str, Any]] = ()
    static_info: Sequence[Mapping[str, Any]] = ()
    storage_info: Sequence[Mapping[str, Any]] = ()
    target_ip: str = ""
    target_mac: str = ""
    device_hostname: str = ""
    device_type: str = ""
    dispatcher_ip: str = ""
    dispatcher_prefix: str = ""
    job_tags: Sequence[str] = ()
    character_delay: float = 0.0
    distro: str = ""
    local_files: LocalFiles = field(default_factory=LocalFiles)
    multinode: MultinodeIdentity | None = None

    @property
    def lava_dir(self) -> str:
        return (self.results_dir or f"/lava-{self.job_id}").rstrip("/")


@record
class BuiltOverlay:
    root: Path
    results_dir: str
    runs: dict[int, list[RunInfo]]

    def runner_command(self, stage: int) -> str:
        return f"{self.results_dir}/bin/lava-test-runner {self.results_dir}/{stage}"

    def environment_command(self) -> str:
        return f". {self.results_dir}/environment"


def scripts_dir() -> Path:
    return Path(__file__).with_name("scripts")  # a folder of the package, as installed (no zip imports)


def build_overlay(root: Path, spec: OverlaySpec) -> BuiltOverlay:
    """Write the overlay under ``root`` (``root/<results dir>``); returns what the test shell needs."""
    lava_dir = spec.lava_dir
    if not lava_dir.startswith("/") or ".." in lava_dir.split("/"):
        raise JobError(f"lava test results dir must be an absolute path, got '{lava_dir}'")
    base = root / lava_dir.lstrip("/")
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    _write_scripts(base / "bin", spec)
    _write(base / "environment", _environment(spec))
    _write(base / "secrets", "".join(f"{_name(k, 'secrets')}={shlex.quote(str(v))}\n" for k, v in spec.secrets.items()))
    runs: dict[int, list[RunInfo]] = {}
    for stage, definitions in spec.stages.items():
        stage_dir = base / str(stage)
        (stage_dir / "tests").mkdir(parents=True)
        conf = []
        runs[stage] = []
        for definition in definitions:
            board_dir = f"{lava_dir}/{stage}/tests/{definition.testrun_id}"
            uuid = definition.uuid or f"{spec.job_id}_{stage}.{definition.index}"
            _write_definition(stage_dir / "tests" / definition.testrun_id, board_dir, definition, uuid, spec)
            conf.append(board_dir)
            parse = definition.testdef.get("parse") or {}
            runs[stage].append(RunInfo(
                definition=definition.testrun_id, uuid=uuid, repository=definition.repository,
                path=definition.path, revision=definition.revision, commit_id=definition.commit_id,
                pattern=parse.get("pattern"), fixupdict=dict(parse.get("fixupdict") or {}),
                expected=definition.expected,
            ))
        _write(stage_dir / "lava-test-runner.conf", "".join(line + "\n" for line in conf))
    return BuiltOverlay(root=root, results_dir=lava_dir, runs=runs)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _name(key: Any, where: str) -> str:
    key = str(key)
    if not _VAR_NAME.match(key):
        raise JobError(f"{where}: '{key}' is not a valid shell variable name")
    return key


def _write_scripts(bin_dir: Path, spec: OverlaySpec) -> None:
    dynamic = {"lava-target-ip": {"TARGET_IP": spec.target_ip}, "lava-target-mac": {"TARGET_MAC": spec.target_mac}}
    if spec.multinode is not None:
        dynamic["lava-multinode-functions"] = spec.multinode.shell_values()
        dynamic["lava-multinode-network-up"] = {"LAVA_MULTI_NODE_NETWORK_ADDRESS": spec.multinode.network_address,
                                                "LAVA_MULTI_NODE_NETWORK_MAC": spec.multinode.network_mac}
    bin_dir.mkdir(parents=True)
    for script in sorted(scripts_dir().iterdir()):
        if not script.name.startswith("lava-"):
            continue
        if script.name in MULTINODE_SCRIPTS and spec.multinode is None:
            continue
        lines = script.read_text().splitlines(keepends=True)
        body = lines[1:] if lines and lines[0].startswith("#!") else lines
        header = [f"#!{spec.sh_cmd}\n"]
        # values known only at deploy time live in the script itself, as the reference does
        header += [f"{k}={shlex.quote(v)}\n" for k, v in dynamic.get(script.name, {}).items()]
        _write(bin_dir / script.name, "".join(header + body), 0o755)


def _environment(spec: OverlaySpec) -> str:
    values: dict[str, str] = {}
    for key, value in spec.environment.items():
        values[_name(key, "environment")] = str(value)
    values.update({
        "LAVA_JOB_ID": spec.job_id,
        "LAVA_DISPATCHER_IP": spec.dispatcher_ip,
        "LAVA_JOB_TAGS": ",".join(spec.job_tags),
        "LAVA_DISPATCHER_PREFIX": spec.dispatcher_prefix,
        "LAVA_DEVICE_HOSTNAME": spec.device_hostname,
        "LAVA_DEVICE_TYPE": spec.device_type,
    })
    for prefix, infos in (("LAVA_DEVICE_INFO", spec.device_info), ("LAVA_STATIC_INFO", spec.static_info),
                          ("LAVA_STORAGE_INFO", spec.storage_info)):
        for i, info in enumerate(infos):
            for key, value in info.items():
                values[_name(f"{prefix}_{i}_{str(key).upper()}", prefix.lower())] = str(value)
    lines = [f"export {k}={shlex.quote(v)}\n" for k, v in values.items()]
    lines.append(f"export PATH={shlex.quote(spec.lava_dir + '/bin')}:$PATH\n")
    return "".join(lines)


def _params(definition: FetchedDefinition) -> str:
    testdef = definition.testdef
    defaults = testdef.get("params") or testdef.get("parameters") or {}
    merged = {**{str(k): v for k, v in defaults.items()}, **definition.parameters}
    where = f"test definition {definition.testrun_id} parameters"
    return "".join(f"export {_name(k, where)}={shlex.quote('' if v is None else str(v))}\n" for k, v in merged.items())


def _write_definition(
    dest: Path, board_dir: str, definition: FetchedDefinition, uuid: str, spec: OverlaySpec
) -> None:
    shutil.copytree(definition.checkout, dest, symlinks=True)
    shutil.copy(definition.checkout / definition.path, dest / "testdef.yaml")
    _write(dest / "uuid", uuid + "\n")
    metadata = definition.testdef.get("metadata") or {}
    _write(dest / "testdef_metadata", dump_yaml({
        "name": metadata.get("name"), "description": metadata.get("description"),
        "version": metadata.get("version"), "os": metadata.get("os"), "devices": metadata.get("devices"),
        "environment": metadata.get("environment"), "url": definition.repository,
        "location": definition.path, "revision": definition.revision, "commit_id": definition.commit_id,
        "from": definition.source,
    }))
    install = _install_script(dest, board_dir, definition, spec)
    if install:
        _write(dest / "install.sh", install, 0o755)
    _write(dest / "run.sh", _run_script(board_dir, definition, uuid, spec), 0o755)


def _install_script(dest: Path, board_dir: str, definition: FetchedDefinition, spec: OverlaySpec) -> str:
    install = definition.testdef.get("install") or {}
    skip = set(definition.skip_install)
    if "all" in skip or not install:
        return ""
    where = f"test definition {definition.testrun_id}"
    body = []
    if "keys" not in skip and install.get("keys"):
        body.append("lava-add-keys " + " ".join(shlex.quote(str(k)) for k in install["keys"]))
    if "sources" not in skip and install.get("sources"):
        body.append("lava-add-sources " + " ".join(shlex.quote(str(s)) for s in install["sources"]))
    deps = list(install.get("deps") or [])
    if spec.distro:
        deps += install.get(f"deps-{spec.distro}") or []
    if "deps" not in skip and deps:
        body.append("lava-install-packages " + " ".join(shlex.quote(str(d)) for d in deps))
    if "git-repos" not in skip:
        for repo in install.get("git-repos") or []:
            _clone_install_repo(dest, repo, where, spec.local_files)
    if "steps" not in skip and install.get("steps"):
        body.append(f"cd {shlex.quote(board_dir)}")
        body += [str(step) for step in install["steps"]]
    if not body:
        return ""
    return f"#!{spec.sh_cmd}\n{_params(definition)}set -e\nexport PATH={shlex.quote(spec.lava_dir + '/bin')}:$PATH\n" + "\n".join(body) + "\n"


def _clone_install_repo(dest: Path, repo: Any, where: str, local_files: LocalFiles) -> None:
    """install.git-repos are cloned on the worker, like the reference, into the definition folder."""
    if isinstance(repo, str):
        repo = {"url": repo}
    url = str(repo.get("url") or "")
    if not url:
        raise JobError(f"{where}: install.git-repos entry without a url")
    at = f"{where} install.git-repos {url}"
    if (path := local_path(url, git=True)) is not None:
        local_files.check(path, at)
    name = str(repo.get("destination") or Path(url.rstrip("/")).name.removesuffix(".git"))
    target = inside(dest, name, f"{at} destination")
    branch = str(repo.get("branch") or "")
    if branch.startswith("-"):
        raise JobError(f"{at}: 'branch' must not start with '-'")
    args = ["clone", "--quiet"] + (["--branch", branch] if branch else [])
    git([*args, "--", url, str(target)], None, at, local_files)


def _run_script(board_dir: str, definition: FetchedDefinition, uuid: str, spec: OverlaySpec) -> str:
    lines = [f"#!{spec.sh_cmd}", _params(definition).rstrip("\n"), "set -e",
             f"export TESTRUN_ID={shlex.quote(definition.testrun_id)}"]
    if definition.lava_signal == "kmsg":
        lines.append("export LAVA_SIGNAL=kmsg")
    if spec.character_delay > 0:
        lines.append(f"export CHARACTER_DELAY={spec.character_delay:g}")
    lines += [
        f"export PATH={shlex.quote(spec.lava_dir + '/bin')}:$PATH",
        f". {shlex.quote(spec.lava_dir + '/bin/lava-common-functions')}",
        f"cd {shlex.quote(board_dir)}",
        f"UUID={shlex.quote(uuid)}",  # as in the uuid file, without a `cat` (forks are slow on a board)
        'lava_signal "STARTRUN $TESTRUN_ID $UUID"',
    ]
    lines += [str(step) for step in ((definition.testdef.get("run") or {}).get("steps") or [])]
    lines.append('lava_signal "ENDRUN $TESTRUN_ID $UUID"')
    return "\n".join(line for line in lines if line) + "\n"

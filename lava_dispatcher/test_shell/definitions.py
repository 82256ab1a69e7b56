"""Fetch the test definitions of a lava-test-shell test action and check them.

    from lava_dispatcher.test_shell.definitions import fetch_definitions, fetch_definition, FetchedDefinition

    defs = fetch_definitions(test_block["definitions"], dest=scratch / "defs")   # list[FetchedDefinition]
    d = defs[0]
    d.testrun_id     # "0_smoke": "<index>_<name>", the name results carry
    d.checkout       # folder holding the repository / extracted tarball / inline file
    d.path           # the definition file inside it; d.testdef is its parsed YAML
    d.repository, d.revision, d.commit_id, d.source ("inline" | "git" | "url")
    d.parameters, d.skip_install, d.lava_signal, d.expected, d.uuid (set by the caller if wanted)

Each job entry is the reference's: ``from: inline`` (``repository`` is the definition dict, written
as YAML at ``path``), ``from: git`` (``repository`` any git URL or local path, ``branch``,
``revision``, ``history: false`` drops ``.git``, ``recursive``, ``path`` inside the repository),
``from: url`` (a tarball over http(s) or file://, ``compression`` gz|bz2|xz|zstd|none,
``strip-components``, ``headers``). Common keys: ``name``, ``params``/``parameters``,
``skip_install``, ``lava-signal``, ``expected``.

Errors are ``JobError`` (the job is wrong: bad metadata, missing path or revision) or
``InfrastructureError`` (the source could not be reached), each naming the definition.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.records import field, record
from lava_common.safe_paths import relative_problem
from lava_common.schemas import JobSchemaError
from lava_common.schemas import validate_testdef as check_testdef_schema
from lava_common.yaml_loader import YAMLLoadError, dump_yaml, load_yaml
from lava_dispatcher.local_files import LocalFiles, local_path

STANDALONE = LocalFiles()

TESTDEF_FORMAT = "Lava-Test Test Definition 1.0"
GIT_TIMEOUT = 600
DOWNLOAD_TIMEOUT = 300
_NAME = re.compile(r"^[-_a-zA-Z0-9.]+$")
# git messages that mean the job points at something that is not there, not a lab failure
_GIT_USER_ERRORS = ("not found", "does not exist", "does not appear to be a git repository",
                    "Remote branch", "did not match any", "unknown revision", "reference is not a tree")


@record
class FetchedDefinition:
    """One definition, fetched to disk and validated."""

    name: str
    index: int
    source: str
    checkout: Path
    path: str
    testdef: dict
    repository: str
    revision: str = ""
    commit_id: str = ""
    parameters: dict = field(default_factory=dict)
    skip_install: tuple[str, ...] = ()
    lava_signal: str = "stdout"
    expected: tuple[str, ...] = ()
    uuid: str = ""

    @property
    def testrun_id(self) -> str:
        return f"{self.index}_{self.name}"


def fetch_definitions(
    entries: Sequence[Mapping[str, Any]], dest: Path, local_files: LocalFiles = STANDALONE
) -> list[FetchedDefinition]:
    """Fetch every entry of a test action's ``definitions`` list into ``dest/<index>_<name>/``;
    ``local_files`` says which local repositories and file:// URLs may be read."""
    seen: set[str] = set()
    fetched = []
    for index, entry in enumerate(entries):
        definition = fetch_definition(entry, index, dest, local_files)
        if definition.name in seen:
            raise JobError(f"test definition '{definition.name}' is listed twice: names must be unique")
        seen.add(definition.name)
        fetched.append(definition)
    return fetched


def fetch_definition(
    entry: Mapping[str, Any], index: int, dest: Path, local_files: LocalFiles = STANDALONE
) -> FetchedDefinition:
    name = str(entry.get("name", ""))
    where = f"test definition {index} ('{name}')"
    if not _NAME.match(name) or name == "lava":
        raise JobError(f"{where}: name must match [-_a-zA-Z0-9.]+ and not be 'lava'")
    source = entry.get("from")
    path = str(entry.get("path") or "")
    if problem := relative_problem(path):
        raise JobError(f"{where}: 'path' {problem}, got '{path}'")
    checkout = dest / f"{index}_{name}"
    if checkout.exists():
        shutil.rmtree(checkout)
    checkout.mkdir(parents=True)
    revision = commit_id = ""
    if source == "inline":
        repository = "inline"
        body = entry.get("repository")
        if not isinstance(body, Mapping):
            raise JobError(f"{where}: 'from: inline' needs the test definition as a mapping in 'repository'")
        target = checkout / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_yaml(dict(body)))
    elif source == "git":
        repository = str(entry.get("repository") or "")
        revision = str(entry.get("revision") or entry.get("branch") or "")
        commit_id = git_fetch(entry, checkout, where, local_files)
    elif source == "url":
        repository = str(entry.get("repository") or "")
        url_fetch(entry, checkout, where, local_files)
    else:
        raise JobError(f"{where}: 'from' must be one of inline, git, url (got '{source}')")
    testdef_file = checkout / path
    if not testdef_file.is_file():
        at = f" at {revision}" if revision else ""
        raise JobError(f"{where}: '{path}' not found in {repository}{at}")
    testdef = load_testdef(testdef_file.read_text(errors="replace"), f"{where} ({repository} {path})")
    params = entry.get("parameters", entry.get("params")) or {}
    if not isinstance(params, Mapping):
        raise JobError(f"{where}: 'parameters' must be a mapping")
    return FetchedDefinition(
        name=name, index=index, source=str(source), checkout=checkout, path=path, testdef=testdef,
        repository=repository, revision=revision, commit_id=commit_id,
        parameters={str(k): v for k, v in params.items()},
        skip_install=tuple(str(s) for s in entry.get("skip_install") or ()),
        lava_signal=str(entry.get("lava-signal") or "stdout"),
        expected=tuple(str(c) for c in entry.get("expected") or testdef.get("expected") or ()),
    )


def load_testdef(text: str, where: str) -> dict:
    """Parse and check a "Lava-Test Test Definition 1.0" file; JobError says what and where."""
    try:
        data = load_yaml(text)
    except YAMLLoadError as exc:
        raise JobError(f"{where}: not valid YAML: {exc}") from exc
    validate_testdef(data, where)
    return data


def validate_testdef(data: Any, where: str) -> None:
    """The shared schema (every problem with its path), then what only a regex engine can tell."""
    if not isinstance(data, Mapping):
        raise JobError(f"{where}: a test definition must be a mapping")
    # a section left empty ("install:" and nothing under it) reads as null: as good as absent
    present = {key: value for key, value in data.items() if value is not None}
    try:
        check_testdef_schema(present)
    except JobSchemaError as exc:
        raise JobError(f"{where}: " + "; ".join(str(issue) for issue in exc.errors)) from None
    pattern = (present.get("parse") or {}).get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            raise JobError(f"{where}: parse.pattern is not a valid regular expression: {exc}") from exc
    for index, repo in enumerate((present.get("install") or {}).get("git-repos") or []):
        destination = repo.get("destination") if isinstance(repo, Mapping) else None
        if destination is not None and (problem := relative_problem(str(destination))):
            raise JobError(f"{where}: install.git-repos[{index}].destination {problem}, got '{destination}'")


# -- git ---------------------------------------------------------------------------------------


def git(args: Sequence[str], cwd: Path | None, where: str, local_files: LocalFiles = STANDALONE) -> str:
    """Run git; failures become errors naming ``where``. On a lab worker, git's own default for
    local repositories applies (only the one asked for, not submodules that point at worker paths)."""
    file_protocol = "user" if local_files.restricted else "always"
    cmd = ["git", "-c", "advice.detachedHead=false", "-c", f"protocol.file.allow={file_protocol}", *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise InfrastructureError("git is not installed on the worker") from exc
    except subprocess.TimeoutExpired as exc:
        raise InfrastructureError(f"{where}: 'git {args[0]}' took more than {GIT_TIMEOUT} s") from exc
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        error = JobError if any(s in proc.stderr for s in _GIT_USER_ERRORS) else InfrastructureError
        raise error(f"{where}: git {args[0]} failed: {message[0]}")
    return proc.stdout.strip()


def git_fetch(entry: Mapping[str, Any], checkout: Path, where: str, local_files: LocalFiles) -> str:
    """Clone ``repository`` (``branch``, ``revision``, ``recursive``, ``history``) into ``checkout``; the commit id."""
    repository = str(entry.get("repository") or "")
    if not repository:
        raise JobError(f"{where}: 'from: git' needs a 'repository'")
    if (path := local_path(repository, git=True)) is not None:
        local_files.check(path, f"{where} repository")
    for key in ("branch", "revision"):
        if str(entry.get(key) or "").startswith("-"):
            raise JobError(f"{where}: '{key}' must not start with '-'")
    args = ["clone", "--quiet"]
    if entry.get("branch"):
        args += ["--branch", str(entry["branch"])]
    if entry.get("recursive"):
        args.append("--recurse-submodules")
    git([*args, "--", repository, str(checkout)], None, where, local_files)
    if entry.get("revision"):
        git(["checkout", "--quiet", str(entry["revision"])], checkout, where, local_files)
        if entry.get("recursive"):
            git(["submodule", "update", "--init", "--recursive", "--quiet"], checkout, where, local_files)
    commit_id = git(["rev-parse", "HEAD"], checkout, where, local_files)
    if entry.get("history") is False:
        shutil.rmtree(checkout / ".git")
    return commit_id


# -- tarballs ----------------------------------------------------------------------------------


def url_fetch(entry: Mapping[str, Any], checkout: Path, where: str, local_files: LocalFiles) -> None:
    """Unpack the tarball at ``repository`` (``compression``, ``strip-components``, ``headers``) into ``checkout``."""
    url = str(entry.get("repository") or "")
    data = download(url, entry.get("headers") or {}, where, local_files)
    compression = entry.get("compression")
    if compression == "zstd" or (compression is None and data[:4] == b"\x28\xb5\x2f\xfd"):
        data = _unzstd(data, where)
    elif compression not in (None, "none", "gz", "bz2", "xz"):
        raise JobError(f"{where}: unknown compression '{compression}' (gz, bz2, xz, zstd or none)")
    try:
        strip = int(entry.get("strip-components") or 0)
    except (TypeError, ValueError) as exc:
        raise JobError(f"{where}: strip-components must be a number") from exc
    import tarfile  # deferred: a 2-3 ms import that only tarball definitions need, on the way to the boot

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            members = []
            for member in archive.getmembers():
                parts = PurePosixPath(member.name).parts[strip:]
                if not parts:
                    continue
                member.name = str(PurePosixPath(*parts))
                members.append(member)
            archive.extractall(checkout, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise JobError(f"{where}: {url} is not a readable tarball: {exc}") from exc


def download(url: str, headers: Mapping[str, str], where: str, local_files: LocalFiles = STANDALONE) -> bytes:
    """Fetch a file:// or http(s):// URL into memory (test definitions are small)."""
    try:
        parsed = urllib.parse.urlparse(url)
    except ValueError as exc:  # "http://[host"
        raise JobError(f"{where}: '{url}' is not a valid URL: {exc}") from None
    if parsed.scheme == "file":
        path = local_files.check(urllib.parse.unquote(parsed.path), where)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise JobError(f"{where}: cannot read {url}: {exc.strerror}") from exc
    if parsed.scheme not in ("http", "https"):
        raise JobError(f"{where}: unsupported URL '{url}' (http, https or file)")
    import requests  # only when needed: keeps imports of this module cheap

    try:
        response = requests.get(url, headers=dict(headers), timeout=DOWNLOAD_TIMEOUT)
    except requests.RequestException as exc:
        raise InfrastructureError(f"{where}: cannot download {url}: {exc}") from exc
    if response.status_code == 404:
        raise JobError(f"{where}: {url} not found (HTTP 404)")
    if response.status_code != 200:
        raise InfrastructureError(f"{where}: {url} answered HTTP {response.status_code}")
    return response.content


def _unzstd(data: bytes, where: str) -> bytes:
    if not shutil.which("zstd"):
        raise InfrastructureError(f"{where}: the 'zstd' program is needed to unpack this tarball")
    proc = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise JobError(f"{where}: zstd could not decompress the tarball: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout

"""Fetching definitions, the overlay layout, tarball and cpio ramdisk append."""

from __future__ import annotations

import gzip
import io
import lzma
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from lava_common.exceptions import JobError
from lava_common.yaml_loader import dump_yaml, load_yaml
from lava_dispatcher.test_shell.definitions import fetch_definitions
from lava_dispatcher.test_shell.overlay import OverlaySpec, build_overlay, pack_overlay_tarball
from lava_dispatcher.test_shell.ramdisk import append_overlay_to_cpio, cpio_newc, detect_compression, passages

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
TESTDEF = {
    "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "demo", "description": "demo"},
    "params": {"A": "1", "B": "two words"},
    "install": {"steps": ["echo installing"], "deps": ["curl"]},
    "run": {"steps": ["lava-test-case a --result pass"]},
    "parse": {"pattern": r"(?P<test_case_id>\S+): (?P<result>\w+)", "fixupdict": {"OK": "pass"}},
    "expected": ["a"],
}


def make_git_repo(path: Path) -> str:
    """A repo with the definition on branch 'topic' (two commits); returns the first commit."""
    run = lambda *a: subprocess.run(["git", *a], cwd=path, check=True, capture_output=True, text=True)  # noqa: E731
    path.mkdir()
    run("init", "-q", "-b", "main")
    run("config", "user.email", "t@example.org")
    run("config", "user.name", "t")
    (path / "tests").mkdir()
    (path / "tests" / "demo.yaml").write_text(dump_yaml(TESTDEF))
    run("add", ".")
    run("commit", "-qm", "one")
    first = run("rev-parse", "HEAD").stdout.strip()
    run("checkout", "-qb", "topic")
    (path / "extra.txt").write_text("x")
    run("add", ".")
    run("commit", "-qm", "two")
    run("checkout", "-q", "main")
    return first


def inline(name: str = "demo", **extra) -> dict:
    return {"from": "inline", "name": name, "path": f"inline/{name}.yaml", "repository": TESTDEF, **extra}


def test_inline_definition(tmp_path: Path) -> None:
    [d] = fetch_definitions([inline(parameters={"B": "job"})], tmp_path)
    assert d.testrun_id == "0_demo" and d.repository == "inline"
    assert load_yaml((d.checkout / d.path).read_text()) == TESTDEF
    assert d.parameters == {"B": "job"} and d.expected == ("a",)


def test_git_definition_branch_revision_history(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = make_git_repo(repo)
    entries = [
        {"from": "git", "name": "b", "repository": str(repo), "branch": "topic", "path": "tests/demo.yaml"},
        {"from": "git", "name": "r", "repository": str(repo), "revision": first, "path": "tests/demo.yaml",
         "history": False},
    ]
    b, r = fetch_definitions(entries, tmp_path / "defs")
    assert (b.checkout / "extra.txt").exists() and (b.checkout / ".git").exists()
    assert r.commit_id == first and not (r.checkout / ".git").exists()
    assert not (r.checkout / "extra.txt").exists()


@pytest.mark.parametrize("entry,message", [
    ({"from": "git", "name": "x", "repository": "/nonexistent/repo", "path": "a.yaml"}, "git clone failed"),
    ({"from": "git", "name": "x", "repository": "REPO", "path": "missing.yaml"}, "'missing.yaml' not found"),
    ({"from": "git", "name": "x", "repository": "REPO", "revision": "0" * 40, "path": "tests/demo.yaml"},
     "git checkout failed"),
    ({"from": "inline", "name": "x", "path": "x.yaml", "repository": {"metadata": {"name": "x"}}},
     "metadata.format: required key missing"),
    ({"from": "inline", "name": "x", "path": "x.yaml",
      "repository": {"metadata": {"format": "Lava-Test Test Definition 1.0"}}}, "metadata.name: required key missing"),
    ({"from": "svn", "name": "x", "path": "x.yaml"}, "'from' must be one of"),
    ({"from": "inline", "name": "bad name", "path": "x.yaml", "repository": TESTDEF}, "name must match"),
    ({"from": "inline", "name": "x", "path": "../x.yaml", "repository": TESTDEF}, "must not contain '..'"),
])
def test_definition_errors_name_the_definition(tmp_path: Path, entry: dict, message: str) -> None:
    if entry.get("repository") == "REPO":
        make_git_repo(tmp_path / "repo")
        entry = {**entry, "repository": str(tmp_path / "repo")}
    with pytest.raises(JobError) as info:
        fetch_definitions([entry], tmp_path / "defs")
    assert message in str(info.value) and "test definition 0" in str(info.value)


def test_duplicate_names_refused(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="listed twice"):
        fetch_definitions([inline(), inline()], tmp_path)


@pytest.mark.parametrize("compression", ["gz", "xz", "zstd"])
def test_url_tarball_with_strip_components(tmp_path: Path, compression: str) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = dump_yaml(TESTDEF).encode()
        info = tarfile.TarInfo("top/tests/demo.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    payload = raw.getvalue()
    if compression == "gz":
        payload = gzip.compress(payload)
    elif compression == "xz":
        payload = lzma.compress(payload)
    else:
        if not shutil.which("zstd"):
            pytest.skip("zstd not installed")
        payload = subprocess.run(["zstd", "-c"], input=payload, capture_output=True, check=True).stdout
    tarball = tmp_path / f"defs.tar.{compression}"
    tarball.write_bytes(payload)
    entry = {"from": "url", "name": "t", "repository": tarball.as_uri(), "compression": compression,
             "strip-components": 1, "path": "tests/demo.yaml"}
    [d] = fetch_definitions([entry], tmp_path / "defs")
    assert d.testdef == TESTDEF


def test_corpus_testdefs_are_accepted(tmp_path: Path) -> None:
    folder = CORPUS / "testdefs"
    if not folder.is_dir():
        pytest.skip("shared corpus not available")
    for i, path in enumerate(sorted(folder.glob("*.yaml"))):
        entry = {"from": "inline", "name": f"c{i}", "path": "t.yaml", "repository": load_yaml(path.read_text())}
        [d] = fetch_definitions([entry], tmp_path / str(i))
        assert d.testdef["metadata"]["name"]


def build(tmp_path: Path, **extra) -> tuple:
    defs = fetch_definitions([inline(parameters={"B": "job value"}, skip_install=["deps"])], tmp_path / "defs")
    spec = OverlaySpec(job_id="42", stages={1: defs}, environment={"ENV1": "x y"}, secrets={"TOKEN": "s'3"},
                       device_info=[{"board_id": "123"}], target_ip="10.0.2.15", target_mac="52:54:00:12:34:56",
                       device_hostname="qemu01", device_type="qemu", dispatcher_ip="10.0.0.1",
                       job_tags=["a", "b"], **extra)
    return build_overlay(tmp_path / "root", spec), tmp_path / "root"


def test_overlay_layout(tmp_path: Path) -> None:
    built, root = build(tmp_path)
    lava = root / "lava-42"
    assert built.results_dir == "/lava-42"
    assert built.runner_command(1) == "/lava-42/bin/lava-test-runner /lava-42/1"
    test_dir = lava / "1" / "tests" / "0_demo"
    for name in ("testdef.yaml", "uuid", "testdef_metadata", "install.sh", "run.sh", "inline/demo.yaml"):
        assert (test_dir / name).is_file(), name
    assert (lava / "1" / "lava-test-runner.conf").read_text() == "/lava-42/1/tests/0_demo\n"
    assert (test_dir / "uuid").read_text().strip() == "42_1.0"
    run = (test_dir / "run.sh").read_text()
    assert run.startswith("#!/bin/sh\nexport A=1\nexport B='job value'\nset -e\nexport TESTRUN_ID=0_demo\n")
    assert 'lava_signal "STARTRUN $TESTRUN_ID $UUID"\nlava-test-case a --result pass\nlava_signal "ENDRUN' in run
    install = (test_dir / "install.sh").read_text()
    assert "echo installing" in install and "lava-install-packages" not in install  # skip_install: deps
    env = (lava / "environment").read_text()
    for line in ("export ENV1='x y'", "export LAVA_JOB_ID=42", "export LAVA_DEVICE_TYPE=qemu",
                 "export LAVA_DEVICE_HOSTNAME=qemu01", "export LAVA_DISPATCHER_IP=10.0.0.1",
                 "export LAVA_JOB_TAGS=a,b", "export LAVA_DEVICE_INFO_0_BOARD_ID=123"):
        assert line in env.splitlines()
    assert (lava / "secrets").read_text() == "TOKEN='s'\"'\"'3'\n"
    ip_script = (lava / "bin" / "lava-target-ip").read_text().splitlines()
    assert ip_script[:2] == ["#!/bin/sh", "TARGET_IP=10.0.2.15"]
    assert all((p.stat().st_mode & 0o111) for p in (lava / "bin").iterdir())
    [run_info] = built.runs[1]
    assert run_info.definition == "0_demo" and run_info.expected == ("a",) and run_info.fixupdict == {"OK": "pass"}


def test_results_dir_override_and_shell(tmp_path: Path) -> None:
    built, root = build(tmp_path, results_dir="/data/lava-42", sh_cmd="/bin/bash")
    assert (root / "data" / "lava-42" / "bin" / "lava-test-case").read_text().startswith("#!/bin/bash\n")
    assert built.runner_command(1) == "/data/lava-42/bin/lava-test-runner /data/lava-42/1"


def test_bad_environment_name(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="'BAD-NAME' is not a valid shell variable name"):
        build_overlay(tmp_path, OverlaySpec(job_id="1", environment={"BAD-NAME": "x"}))


def test_tarball(tmp_path: Path) -> None:
    _, root = build(tmp_path)
    tarball = pack_overlay_tarball(root, tmp_path / "overlay.tar.gz")
    with tarfile.open(tarball) as tar:
        member = tar.getmember("lava-42/bin/lava-test-runner")
        assert member.uid == 0 and member.mode & 0o755 == 0o755


def test_folders_leading_to_the_overlay_keep_the_boards_modes(tmp_path: Path) -> None:
    """An overlay for /tmp/lava-42 unpacked at / must not turn /tmp into the scratch folder's 0750."""
    root = tmp_path / "root"
    results = root / "tmp" / "nested" / "lava-42"
    (results / "bin").mkdir(parents=True)
    (results / "bin" / "lava-test-runner").write_text("#!/bin/sh\n")
    (results / "lava-test-runner.conf").write_text("")
    (root / "tmp").chmod(0o750)
    assert passages(root) == {"tmp", "tmp/nested"}
    with tarfile.open(pack_overlay_tarball(root, tmp_path / "overlay.tar.gz")) as tar:
        assert sorted(tar.getnames()) == ["tmp/nested/lava-42", "tmp/nested/lava-42/bin",
                                  "tmp/nested/lava-42/bin/lava-test-runner", "tmp/nested/lava-42/lava-test-runner.conf"]
    modes = {name: mode for name, mode, _ in read_newc(cpio_newc(root))}
    assert modes["tmp"] == 0o41777 and modes["tmp/nested"] == 0o40755


def read_newc(data: bytes) -> list[tuple[str, int, int]]:
    """(name, mode, uid) of every entry of concatenated newc archives, skipping zero padding."""
    entries, pos = [], 0
    while pos < len(data):
        if data[pos] == 0:
            pos += 1
            continue
        assert data[pos:pos + 6] == b"070701", pos
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name = data[pos + 110: pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        pos += filesize + (-filesize % 4)
        entries.append((name, fields[1], fields[2]))
    return entries


@pytest.mark.parametrize("compression", ["gz", "xz", "zstd", "none"])
def test_append_overlay_to_cpio(tmp_path: Path, compression: str) -> None:
    if compression == "zstd" and not shutil.which("zstd"):
        pytest.skip("zstd not installed")
    if not shutil.which("cpio"):
        pytest.skip("cpio not installed")
    base = tmp_path / "base"
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "hostname").write_text("lava\n")
    names = subprocess.run(["find", "."], cwd=base, capture_output=True, check=True).stdout
    archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=base, input=names,
                             capture_output=True, check=True).stdout
    ramdisk = tmp_path / "ramdisk.cpio"
    ramdisk.write_bytes(archive)
    _, root = build(tmp_path)
    out = append_overlay_to_cpio(ramdisk, root, tmp_path / "out.cpio", None if compression == "none" else compression)
    assert detect_compression(out) == (None if compression == "none" else compression)
    raw = out.read_bytes()
    if compression == "gz":
        raw = gzip.decompress(raw)
    elif compression == "xz":
        raw = lzma.decompress(raw)
    elif compression == "zstd":
        raw = subprocess.run(["zstd", "-dc"], input=raw, capture_output=True, check=True).stdout
    entries = {name: (mode, uid) for name, mode, uid in read_newc(raw)}
    assert "etc/hostname" in entries
    mode, uid = entries["lava-42/bin/lava-test-runner"]
    assert uid == 0 and mode & 0o755 == 0o755
    assert "lava-42/1/tests/0_demo/run.sh" in entries


def test_append_refuses_what_is_not_cpio(tmp_path: Path) -> None:
    bogus = tmp_path / "r.gz"
    bogus.write_bytes(gzip.compress(b"not a cpio"))
    with pytest.raises(JobError, match="not a cpio newc archive"):
        append_overlay_to_cpio(bogus, tmp_path, tmp_path / "o")

"""The one local git repository of test definitions the adapted jobs name: the corpus's, else ours."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import yaml

from corpus_run import REPO
from corpus_run.images import compress

OUR_TESTDEFS = REPO / "share" / "corpus-run-testdefs"
TARBALL_LOCK = threading.Lock()


def repository_tarball(repo_url: str, compression: str | None) -> Path:
    """The test-definition repository as a tarball (paths from its top), compressed as named; made once."""
    repo = Path(repo_url.removeprefix("file://"))
    tarball = repo.with_name("testdefs.tar")
    packed = tarball.with_name(f"testdefs.tar.{compression}") if compression and compression != "none" else tarball
    with TARBALL_LOCK:  # jobs adapted at once share it
        if not tarball.exists():
            subprocess.run(["tar", "-cf", str(tarball), "--exclude=.git", "-C", str(repo), "."], check=True)
        if not packed.exists():
            compress(tarball, compression)
    return packed


def local_git_repos(text: str, repo: Path) -> str:
    """The test definition with the repositories its install step clones (``git-repos``) made local: a bare
    clone of ``repo`` under the original repository's name (the name is the clone's default folder)."""
    testdef = yaml.safe_load(text)
    repos = (testdef.get("install") or {}).get("git-repos") if isinstance(testdef, dict) else None
    if not repos:
        return text

    def local(url: str) -> str:
        clone = repo.parent / "git-repos" / Path(url.rstrip("/")).name
        if not clone.exists():
            subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(clone)], check=True)
        return f"file://{clone}"

    testdef["install"]["git-repos"] = [dict(entry, url=local(str(entry.get("url"))))
                                       if isinstance(entry, dict) else local(str(entry)) for entry in repos]
    return yaml.safe_dump(testdef, sort_keys=False)


def testdef_repository(corpus: Path, jobs: list[dict], work: Path) -> Path:
    """One git repository with every test definition path the jobs name: the corpus's file of that name,
    else ours (share/corpus-run-testdefs); a branch for each branch the jobs name."""
    repo = work / "testdefs"
    repo.mkdir()
    ours = {p.relative_to(OUR_TESTDEFS).as_posix(): p for p in OUR_TESTDEFS.rglob("*.yaml")}
    corpus_files = {p.name: p for p in (corpus / "testdefs").glob("*.yaml")}
    branches = set()
    for job in jobs:
        for action in job.get("actions") or []:
            block = action.get("test") if isinstance(action, dict) else None
            for definition in (block or {}).get("definitions") or [] if isinstance(block, dict) else []:
                path = str(definition.get("path", ""))
                if definition.get("from") not in ("git", "url") or not path:
                    continue
                source = ours.get(path) or corpus_files.get(Path(path).name)
                if source:
                    (repo / path).parent.mkdir(parents=True, exist_ok=True)
                    (repo / path).write_text(source.read_text())
                if definition.get("branch"):
                    branches.add(str(definition["branch"]))
    git = ["git", "-C", str(repo), "-c", "user.name=corpus-run", "-c", "user.email=corpus-run@localhost"]
    subprocess.run([*git, "init", "-q", "-b", "master"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "test definitions for corpus-run"], check=True)
    # what install steps clone: the same content, so the clones are made from this first commit
    for path in sorted(repo.rglob("*.yaml")):
        text = path.read_text()
        rewritten = local_git_repos(text, repo)
        if rewritten != text:
            path.write_text(rewritten)
    subprocess.run([*git, "commit", "-q", "-a", "--allow-empty", "-m", "git-repos made local"], check=True)
    for branch in sorted(branches):
        subprocess.run([*git, "branch", branch], check=True)
    return repo

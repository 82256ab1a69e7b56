"""Fuzzing the test-definition parsers: the shared schema and lava-run's fetch-check-build of the overlay.

Whatever the definition: the schema gives errors with paths, lava-run a
JobError naming the definition (never another exception), and what it
accepts builds an overlay without writing outside the job's folder.
"""

import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from lava_common.exceptions import JobError
from lava_common.schemas import JobSchemaError, validate_testdef
from lava_dispatcher.test_shell.definitions import fetch_definition, load_testdef
from lava_dispatcher.test_shell.overlay import OverlaySpec, build_overlay
from tests.security.fuzzing import definition_texts, definition_trees, fuzz_settings

WHERE = "test definition 0 ('fuzz')"


@fuzz_settings
@given(definition_trees())
def test_schema_gives_errors_with_paths(tree):
    try:
        validate_testdef(tree)
    except JobSchemaError as exc:
        assert exc.errors
        for issue in exc.errors:
            assert issue.message.strip() and "internal validator error" not in issue.message
            assert issue.path or not isinstance(tree, dict), issue


@fuzz_settings
@given(definition_texts())
def test_lava_run_parses_text_or_says_where_it_is_wrong(text):
    try:
        data = load_testdef(text, WHERE)
    except JobError as exc:
        assert str(exc).startswith(WHERE + ": ") and str(exc)[len(WHERE) + 2:].strip()
    else:
        assert isinstance(data, dict)


def _files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*")}


@fuzz_settings
@given(definition_trees(), st.one_of(st.none(), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)),
       st.lists(st.sampled_from(["keys", "sources", "deps", "steps", "all"]), max_size=2))
@example(tree={"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "x"}, "parse": {"pattern": [None]},
               "install": {"git-repos": [{"url": "file:///x", "destination": "../../escape"}]}},
         parameters=None, skip_install=[])  # found by fuzzing once
def test_lava_run_builds_an_overlay_or_refuses_with_a_job_error(tree, parameters, skip_install):
    # git-repos would reach the network: the fuzzed definitions keep only the shape checks of their entries
    entry = {"from": "inline", "name": "fuzz", "path": "inline/fuzz.yaml", "repository": tree,
             "skip_install": [*skip_install, "git-repos"]}
    if parameters is not None:
        entry["parameters"] = parameters
    with tempfile.TemporaryDirectory(prefix="fuzz-testdef-") as scratch:
        job_dir = Path(scratch) / "job"
        outside = _files_under(Path(scratch))
        try:
            definition = fetch_definition(entry, 0, job_dir / "defs")
            build_overlay(job_dir / "overlay", OverlaySpec(job_id="1", stages={0: [definition]}, distro="debian"))
        except JobError as exc:
            assert str(exc).strip()
        written = _files_under(Path(scratch)) - outside
        assert all(job_dir in path.parents or path == job_dir for path in written), written

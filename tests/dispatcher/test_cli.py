"""lava-run as a process: validation, clear errors, exit codes, timeouts and SIGTERM."""

import os
import signal
import subprocess
import sys
import time

import yaml

from .helpers import HERE, REPO, job_result, parse_stream, results, run_lava, write_dispatcher_config


def _alive(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_validate_only(tmp_path):
    proc, records, out = run_lava(tmp_path, HERE / "jobs" / "qemu-tests.yaml", HERE / "devices" / "qemu-x86_64.yaml",
                                  "--validate")
    assert proc.returncode == 0, proc.stderr
    assert job_result(records) == {"definition": "lava", "case": "job", "result": "pass"}
    description = yaml.safe_load((out / "description.yaml").read_text())
    assert description["pipeline"][0]["name"] == "deployimages"
    assert yaml.safe_load((out / "result.yaml").read_text())["result"] == "pass"
    assert (out / "logs.yaml").read_text().count("\n") == len(records)


def test_action_timeout_longer_than_the_job_only_warns(tmp_path):
    # tuxrun's boot-only job: the reference's lava-run runs it with a warning (the server refuses it)
    job = yaml.safe_load((HERE / "jobs" / "qemu-tests.yaml").read_text())
    job["timeouts"] = {"job": {"minutes": 4}}
    job["actions"][1]["boot"]["timeout"] = {"minutes": 5}
    job["build_notes"] = "unknown top-level keys are accepted with a warning"
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "qemu-x86_64.yaml", "--validate")
    assert proc.returncode == 0, proc.stderr
    assert job_result(records)["result"] == "pass"
    warnings = [r["msg"] for r in records if r["lvl"] == "warning"]
    assert any("timeout 300s is longer than the job timeout 240s" in w for w in warnings), warnings
    assert "job definition: build_notes: unknown key (ignored)" in warnings


def test_absurdly_long_timeouts_run(tmp_path):
    # {days: 10**20} is a valid timeout: the interval timer must not overflow on it
    job = yaml.safe_load((HERE / "jobs" / "minimal.yaml").read_text())
    huge = {"days": 10**20}
    job["timeouts"] = {"job": huge, "action": huge, "connection": huge}
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "fake-board.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert job_result(records)["result"] == "pass"


def test_only_nine_levels(tmp_path):
    _, records, _ = run_lava(tmp_path, HERE / "jobs" / "minimal.yaml", HERE / "devices" / "fake-board.yaml")
    levels = {r["lvl"] for r in records}
    assert levels <= {"exception", "error", "warning", "info", "debug", "input", "target", "feedback", "results"}


def test_minimal_boot_on_a_fake_board(tmp_path):
    proc, records, _ = run_lava(tmp_path, HERE / "jobs" / "minimal.yaml", HERE / "devices" / "fake-board.yaml")
    assert proc.returncode == 0, proc.stderr
    assert any(r["lvl"] == "target" and "fake-board# " in r["msg"] for r in records)


def test_bad_yaml_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("job_name: x\nactions: [\n")
    proc, records, _ = run_lava(tmp_path, bad, HERE / "devices" / "qemu-x86_64.yaml")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    result = job_result(records)
    assert result["error_type"] == "Job" and "bad.yaml" in result["error_msg"] and "line" in result["error_msg"]


def test_missing_device_file(tmp_path):
    proc, records, _ = run_lava(tmp_path, HERE / "jobs" / "minimal.yaml", tmp_path / "nope.yaml")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert job_result(records)["error_type"] == "Configuration"
    assert "nope.yaml" in job_result(records)["error_msg"]


def test_unknown_method_lists_reasons(tmp_path):
    job = yaml.safe_load((HERE / "jobs" / "minimal.yaml").read_text())
    # a method the schema knows but this device does not have: every strategy says why not
    job["actions"][0]["boot"].update(method="qemu", media="tmpfs")
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "fake-board.yaml", "--validate")
    assert proc.returncode == 1
    message = job_result(records)["error_msg"]
    assert "actions[0].boot" in message and "'method' is not 'minimal'" in message
    assert "does not support boot method 'qemu'" in message


def test_board_that_never_prompts_times_out(tmp_path):
    job = yaml.safe_load((HERE / "jobs" / "minimal.yaml").read_text())
    job["timeouts"]["connection"] = {"seconds": 2}
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "silent-board.yaml")
    assert time.monotonic() - started < 20
    assert proc.returncode == 1
    result = job_result(records)
    assert result["error_type"] == "LAVATimeout" and "timed out" in result["error_msg"]
    assert not _alive("sleep 1000")


def test_sigterm_cancels_and_kills_children(tmp_path):
    job = yaml.safe_load((HERE / "jobs" / "minimal.yaml").read_text())
    job_path = tmp_path / "job.yaml"
    job_path.write_text(yaml.safe_dump(job))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "5", "--output-dir", str(out), "--device",
           str(HERE / "devices" / "silent-board.yaml"), "--dispatcher", str(write_dispatcher_config(tmp_path)),
           str(job_path)]
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 10
    while not _alive("sleep 1000") and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    stderr = proc.communicate(timeout=20)[1]
    assert time.monotonic() - started < 5
    assert proc.returncode == 1
    records = parse_stream(stderr)
    result = [r for r in results(records) if r["case"] == "job"][-1]
    assert result["result"] == "fail" and result["error_type"] == "Canceled"
    assert not _alive("sleep 1000")


def test_validate_pays_for_nothing_it_does_not_use(tmp_path):
    # issue 17: `lava-run --validate` within 80 ms; these were a third of its instructions
    script = (
        "import sys; from lava_dispatcher import cli\n"
        f"args = cli.parse_arguments(['--job-id', '1', '--output-dir', {str(tmp_path)!r}, '--device', "
        f"{str(HERE / 'devices' / 'qemu-x86_64.yaml')!r}, '--validate', {str(HERE / 'jobs' / 'qemu-tests.yaml')!r}])\n"
        "assert cli.run(args) == 0\n"
        "import yaml\n"
        "print(sorted(name for name in ('dataclasses', 'inspect', 'difflib', 'argparse', 'locale', 'shutil')\n"
        "             if name in sys.modules))\n"
        "print(type(yaml.reader.Reader.NON_PRINTABLE).__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["[]", "_CompiledOnFirstUse"]


PLAIN_COMMAND_LINES = [
    ["--job-id", "7", "--output-dir", "out", "--device", "dev.yaml", "job.yaml"],
    ["job.yaml", "--validate", "--job-id=7", "--output-dir=out", "--device", "dev.yaml", "--debug"],
    ["--job-id", "", "--output-dir", "out", "--device=", "--dispatcher", "d.yaml", "--env-dut", "e.yaml",
     "--allowed-file-dirs", "", "--skip-sudo-warning", "--url", "http://a/?b=c", "--token=-secret=",
     "--job-log-interval", "12", "--validate", "a=b.yaml"],
]

UNUSUAL_COMMAND_LINES = [
    ["--job-id", "7", "--output-dir", "out", "--dev", "dev.yaml", "job.yaml"],  # abbreviation
    ["--job-id", "7", "--output-dir", "out", "--device", "dev.yaml", "--job-id", "8", "job.yaml"],  # repeated
    ["--job-id", "7", "--output-dir", "out", "--device", "dev.yaml", "--job-log-interval", "-5", "job.yaml"],
    ["--job-id", "7", "--output-dir", "out", "--device", "dev.yaml", "--", "job.yaml"],
]


def test_plain_command_lines_read_as_argparse_reads_them():
    from lava_dispatcher import cli

    for argv in PLAIN_COMMAND_LINES:
        assert vars(cli._parse_plain(argv)) == vars(cli.build_parser().parse_args(argv)), argv
    for argv in UNUSUAL_COMMAND_LINES:
        assert cli._parse_plain(argv) is None, argv
        assert vars(cli.parse_arguments(argv)) == vars(cli.build_parser().parse_args(argv)), argv
    assert cli._parse_plain(["--job-id", "7", "--output-dir", "o", "--device", "d", "--validate=yes", "j"]) is None


def test_mistakes_and_help_still_get_argparse_messages(tmp_path):
    lava_run = [sys.executable, "-m", "lava_dispatcher.cli"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cases = {
        ("--job-id", "1", "job.yaml"): "the following arguments are required: --output-dir, --device",
        ("--job-id", "1", "--output-dir", str(tmp_path), "--device", "d.yaml", "a.yaml", "b.yaml"):
            "unrecognized arguments: b.yaml",
        ("--job-id", "1", "--output-dir", str(tmp_path), "--device", "d.yaml", "--job-log-interval", "x", "a.yaml"):
            "argument --job-log-interval: invalid int value: 'x'",
        ("--job-id", "1", "--output-dir", str(tmp_path), "--device", "d.yaml", "--bogus", "a.yaml"):
            "unrecognized arguments: --bogus",
    }
    for argv, message in cases.items():
        proc = subprocess.run([*lava_run, *argv], capture_output=True, text=True, cwd=REPO, env=env)
        assert proc.returncode == 2 and f"lava-run: error: {message}" in proc.stderr, (argv, proc.stderr)
    proc = subprocess.run([*lava_run, "--help"], capture_output=True, text=True, cwd=REPO, env=env)
    assert proc.returncode == 0 and "--allowed-file-dirs DIRS" in proc.stdout


def test_importing_lava_run_leaves_the_garbage_collector_as_it_found_it():
    script = (
        "import gc, sys\n"
        "import lava_dispatcher.cli\n"
        "print(gc.isenabled())\n"
        "gc.disable(); del sys.modules['lava_dispatcher.cli']\n"
        "import lava_dispatcher.cli\n"
        "print(gc.isenabled())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.split() == ["True", "False"], proc.stderr

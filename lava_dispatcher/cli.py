"""``lava-run``: run one job standalone (by hand, by the worker, by tuxrun).

``lava-run --validate`` has to start in a fraction of a second, so pexpect,
requests and the test-shell modules are only loaded by the actions that use them,
and a method's module only when the job names the method (registry.py).
"""

from __future__ import annotations

import gc

# The cyclic garbage collector finds nothing to free among the modules and classes being
# imported, yet runs every few hundred allocations while they are: 3 % of `lava-run --validate`
# (issue 17). It is off while lava-run's modules load, and what they made is frozen (never
# scanned again: it lives as long as the process anyway); then it is back as it was.
_GC_WAS_ENABLED = gc.isenabled()
gc.disable()

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import TYPE_CHECKING, Any, NoReturn  # noqa: E402

from lava_common.exceptions import ConfigurationError, JobCanceled, JobError, LAVAError  # noqa: E402
from lava_common.yaml_loader import YAMLLoadError, dump_yaml, load_yaml  # noqa: E402
from lava_dispatcher.actions.test.services_stop import stop_test_services  # noqa: E402
from lava_dispatcher.context import JobContext  # noqa: E402
from lava_dispatcher.device import parse_device, parse_dispatcher  # noqa: E402
from lava_dispatcher.job import Job  # noqa: E402
from lava_dispatcher.local_files import LocalFiles  # noqa: E402
from lava_dispatcher.logger import JobLogger, stderr_logger  # noqa: E402

if TYPE_CHECKING:
    import argparse

gc.freeze()
if _GC_WAS_ENABLED:
    gc.enable()

CANCEL_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR2)


# lava-run's options, as argparse's add_argument takes them: build_parser and the fast path below
# both read this table, so they cannot disagree on names, types and defaults
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--job-id", {"required": True, "metavar": "ID", "help": "job identifier"}),
    ("--output-dir", {"required": True, "type": Path, "help": "where logs.yaml, result.yaml go"}),
    ("--device", {"required": True, "type": Path, "help": "rendered device configuration (YAML)"}),
    ("--dispatcher", {"type": Path, "default": None, "help": "dispatcher configuration (YAML)"}),
    ("--env-dut", {"type": Path, "default": None, "help": "environment for the device (YAML)"}),
    ("--validate", {"action": "store_true", "help": "validate the job, do not run it"}),
    ("--allowed-file-dirs", {"default": None, "metavar": "DIRS",
                             "help": f"only read file:// URLs and local git repositories below these folders "
                             f"('{os.pathsep}'-separated; empty: none); without it, any local file"}),
    ("--skip-sudo-warning", {"action": "store_true", "help": "accepted; root is never required"}),
    ("--debug", {"action": "store_true", "help": "accepted for compatibility"}),
    ("--url", {"default": None, "help": "accepted for compatibility; logs go to stderr"}),
    ("--token", {"default": None, "help": "accepted for compatibility (masked in logs)"}),
    ("--job-log-interval", {"type": int, "default": 5, "help": "accepted for compatibility"}),
)


def build_parser() -> argparse.ArgumentParser:
    # deferred: argparse, gettext, locale and shutil (its help formatter's) are a tenth of
    # `lava-run --validate`; parse_arguments needs them only for --help and mistakes
    import argparse

    parser = argparse.ArgumentParser(prog="lava-run", description="Run a LAVA job on one device")
    for flag, options in OPTIONS:
        parser.add_argument(flag, **options)
    parser.add_argument("definition", type=Path, help="job definition (YAML)")
    return parser


def _parse_plain(argv: list[str]) -> SimpleNamespace | None:
    """The arguments as build_parser's parser reads them, when every one is in a plain form
    (``--name value``, ``--name=value``, a flag, one definition); None for anything else
    (help, abbreviations, a missing or repeated option, a value that starts with ``-``...),
    which argparse then handles, messages included."""
    known = {flag: options for flag, options in OPTIONS}
    values: dict[str, Any] = {}
    definition = None
    tokens = iter(argv)
    for token in tokens:
        if not token.startswith("-"):
            if definition is not None:
                return None
            definition = token
            continue
        flag, equals, value = token.partition("=")
        options = known.get(flag)
        if options is None or flag in values:
            return None
        if options.get("action") == "store_true":
            if equals:
                return None
            values[flag] = True
            continue
        if not equals:
            value = next(tokens, None)
            if value is None or value.startswith("-"):
                return None
        convert = options.get("type", str)
        try:
            values[flag] = convert(value)
        except ValueError:
            return None
    if definition is None:
        return None
    args = SimpleNamespace()
    for flag, options in OPTIONS:
        if flag in values:
            value = values[flag]
        elif options.get("required"):
            return None
        else:
            value = options.get("default", False if options.get("action") == "store_true" else None)
        setattr(args, flag[2:].replace("-", "_"), value)
    args.definition = Path(definition)
    return args


def parse_arguments(argv: list[str]) -> argparse.Namespace | SimpleNamespace:
    """lava-run's arguments: the plain forms every caller uses without argparse, the rest with it."""
    return _parse_plain(argv) or build_parser().parse_args(argv)


def _load(path: Path | None, what: str, error: type[LAVAError]) -> Any:
    if path is None:
        return None
    try:
        text = path.read_bytes()  # load_yaml decodes, and says where a file is not UTF-8
    except OSError as exc:
        raise error(f"cannot read the {what} '{path}': {exc.strerror}") from exc
    try:
        return load_yaml(text)
    except YAMLLoadError as exc:
        raise error(f"{what} '{path}': {exc}") from exc


class _CancelHandler:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        if signum == signal.SIGUSR1:
            raise JobCanceled("job deleted on the server")
        raise JobCanceled("canceled" if self.count == 1 else "canceled again")

    def install(self) -> None:
        for sig in (*CANCEL_SIGNALS, signal.SIGUSR1):
            signal.signal(sig, self)

    @staticmethod
    def ignore() -> None:
        for sig in (*CANCEL_SIGNALS, signal.SIGUSR1):
            signal.signal(sig, signal.SIG_IGN)


def _stop_test_services(ctx: JobContext, logger: JobLogger) -> None:
    """The last resort: test services that finalize could not stop (a second cancel) are stopped here."""
    try:
        stop_test_services(ctx)
    except LAVAError as exc:
        logger.error(str(exc))


def _write_yaml(path: Path, data: Any) -> None:
    path.write_text(dump_yaml(data), encoding="utf-8")


def run(args: argparse.Namespace | SimpleNamespace) -> int:
    args.output_dir.mkdir(parents=True, exist_ok=True)
    logger = stderr_logger(str(args.output_dir / "logs.yaml"))
    if args.token:
        logger.add_secret(args.token)
    handler = _CancelHandler()
    handler.install()
    job = None
    ctx = None
    result: dict[str, Any] = {"definition": "lava", "case": "job", "result": "fail"}
    try:
        ctx, job = _prepare(args, logger)
        _write_yaml(args.output_dir / "description.yaml", job.describe())
        job.validate()
        logger.info("validate: the job is valid")
        if not args.validate:
            job.run()
        result["result"] = "pass"
    except LAVAError as exc:
        result.update(error_msg=str(exc), error_type=exc.error_type)
        logger.error(f"{exc.error_help}: {exc}")
    except Exception as exc:  # noqa: BLE001 - never a traceback for the user; a Bug result instead
        result.update(error_msg=f"{type(exc).__name__}: {exc}", error_type="Bug")
        logger.exception(f"This is a bug in lava-run: {type(exc).__name__}: {exc}")
    finally:
        handler.ignore()
        if ctx is not None:
            ctx.deadlines.clear()
            for console in ctx.connections():
                console.stop_process()
            ctx.processes.kill_all()
            _stop_test_services(ctx, logger)
        if job is not None:
            job.remove_scratch()
    logger.results(result)
    if result["result"] == "pass":
        logger.info("Job finished correctly")
    _write_yaml(args.output_dir / "result.yaml", result)
    logger.close()
    return 0 if result["result"] == "pass" else 1


def _prepare(args: argparse.Namespace | SimpleNamespace, logger: JobLogger) -> tuple[JobContext, Job]:
    job_data = _load(args.definition, "job definition", JobError)
    device = parse_device(_load(args.device, "device configuration", ConfigurationError), str(args.device))
    dispatcher = parse_dispatcher(_load(args.dispatcher, "dispatcher configuration", ConfigurationError))
    env_dut = _load(args.env_dut, "device environment", ConfigurationError) or {}
    if not isinstance(job_data, dict):
        raise JobError(f"job definition '{args.definition}': must be a mapping")
    secrets = job_data.get("secrets") or {}
    if isinstance(secrets, dict):
        for key, value in secrets.items():
            try:
                os.environ[str(key)] = str(value)
            except (ValueError, OSError):  # "", "A=B", a NUL byte: no environment can hold these
                raise JobError(f"secrets.{key}: not a usable environment variable name") from None
            logger.add_secret(str(value))
    os.environ["LAVA_JOB_ID"] = str(args.job_id)
    ctx = JobContext(
        job_id=str(args.job_id),
        job=job_data,
        device=device,
        dispatcher=dispatcher,
        logger=logger,
        env_dut=env_dut if isinstance(env_dut, dict) else {},
        local_files=LocalFiles.from_option(args.allowed_file_dirs),
    )
    return ctx, Job.from_context(ctx)


def main(argv: list[str] | None = None) -> NoReturn:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        code = run(args)
    except JobCanceled:
        code = 1  # a signal arrived after the final result was written
    # all is written and closed, lava-run's threads are daemons and it registers no exit handler:
    # the interpreter's teardown of every module and object (5 % of `lava-run --validate`, more
    # after a run) would only delay the exit
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

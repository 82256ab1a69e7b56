"""``lava-worker``: the daemon on each dispatcher host that runs the master's jobs with lava-run."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import NoReturn

from lava_common.exceptions import ConfigurationError
from lava_common.file_modes import restrict_umask
from lava_common.keys import read_key_pair, read_public_key
from lava_common.protocol import CANCEL_KILL_AFTER, DEFAULT_HEARTBEAT
from lava_common.worker_identity import MAX_NAME_BYTES
from lava_dispatcher.worker.daemon import Worker, WorkerExit, lock_worker_dir
from lava_dispatcher.worker.jobs import JobStore
from lava_dispatcher.worker.link import CurveKeys, MasterLink

DEFAULT_WORKER_DIR = "/var/lib/lava/dispatcher/worker"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lava-worker", description="Run the master's jobs on this host")
    parser.add_argument("--master", required=True, metavar="URL",
                        help="lava-master's address, tcp://HOST:PORT or ipc://PATH")
    parser.add_argument("--name", default=socket.getfqdn(), help="this worker's name on the server "
                        "(default: the host's FQDN)")
    parser.add_argument("--worker-dir", type=Path, default=Path(DEFAULT_WORKER_DIR),
                        help=f"where jobs live while they run (default {DEFAULT_WORKER_DIR})")
    parser.add_argument("--master-cert", type=Path, metavar="FILE", help="the master's public key file")
    parser.add_argument("--worker-cert", type=Path, metavar="FILE", help="this worker's secret key file")
    parser.add_argument("--plaintext", action="store_true",
                        help="no CURVE encryption or authentication: only to an ipc:// socket of a master on "
                             "this host")
    parser.add_argument("--allow-plaintext-tcp", action="store_true",
                        help="with --plaintext, also allow tcp:// (every local process and QEMU guest with user "
                             "networking reaches loopback: tests only)")
    parser.add_argument("--heartbeat", type=float, default=DEFAULT_HEARTBEAT, metavar="SECONDS",
                        help="until the master says otherwise (default %(default)s)")
    parser.add_argument("--lava-run", default=None, metavar="PATH", help="the lava-run program to start")
    parser.add_argument("--cancel-kill-after", type=float, default=CANCEL_KILL_AFTER, metavar="SECONDS",
                        help="SIGKILL a canceled job this long after SIGTERM (default %(default)s)")
    parser.add_argument("--allow-file-dir", action="append", type=Path, default=[], metavar="DIR",
                        help="jobs may read file:// URLs and local git repositories below DIR (repeat for "
                        "several folders; by default, none)")
    parser.add_argument("--exit-on-refused", action="store_true", help="exit when the master refuses us")
    parser.add_argument("--level", default="INFO", type=str.upper, choices=LEVELS, help="log level")
    parser.add_argument("--log-file", type=Path, default=None, help="log here instead of stderr")
    return parser


def find_lava_run(given: str | None) -> str:
    if given is not None:
        found = shutil.which(given)
        if found is None:
            raise ConfigurationError(f"--lava-run {given}: not found or not executable")
        return os.path.abspath(found)
    found = shutil.which("lava-run")
    if found is not None:
        return found
    beside = Path(sys.executable).parent / "lava-run"  # a virtualenv that is not on PATH
    if os.access(beside, os.X_OK):
        return str(beside)
    raise ConfigurationError("lava-run is not on PATH; give --lava-run PATH")


def allowed_folders(folders: list[Path]) -> tuple[Path, ...]:
    """``--allow-file-dir`` folders, resolved; a folder that is not there is a configuration error."""
    resolved = []
    for folder in folders:
        if not folder.is_dir():
            raise ConfigurationError(f"--allow-file-dir {folder}: not a folder")
        resolved.append(folder.resolve())
    return tuple(resolved)


def curve_keys(args: argparse.Namespace) -> CurveKeys | None:
    if args.master_cert is None and args.worker_cert is None:
        if not args.plaintext:
            raise ConfigurationError("give --master-cert and --worker-cert (CURVE keys), or --plaintext")
        if args.master.startswith("tcp://") and not args.allow_plaintext_tcp:
            raise ConfigurationError(f"--plaintext: {args.master}: plain text goes over an ipc:// socket only "
                                     "(ipc:///run/lava-master/master.sock); use CURVE keys for tcp://")
        return None
    if args.plaintext:
        raise ConfigurationError("--plaintext and key files exclude each other")
    if args.allow_plaintext_tcp:
        raise ConfigurationError("--allow-plaintext-tcp goes with --plaintext only")
    if args.master_cert is None or args.worker_cert is None:
        raise ConfigurationError("CURVE needs both --master-cert (master's public key) and --worker-cert")
    public, secret = read_key_pair(args.worker_cert)
    return CurveKeys(public=public, secret=secret, server=read_public_key(args.master_cert))


def setup_logging(level: str, log_file: Path | None) -> None:
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        try:
            handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"--log-file {log_file}: {exc.strerror or exc}") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("lava-worker")
    logger.addHandler(handler)
    logger.setLevel(level)


def run(args: argparse.Namespace) -> None:
    if not args.master.startswith(("tcp://", "ipc://")):
        raise ConfigurationError(f"--master {args.master}: expected tcp://HOST:PORT or ipc://PATH")
    if args.heartbeat <= 0 or args.cancel_kill_after < 0:
        raise ConfigurationError("--heartbeat must be positive and --cancel-kill-after not negative")
    if not args.name or len(args.name.encode("utf-8")) > MAX_NAME_BYTES or "/" in args.name:
        raise ConfigurationError(f"--name {args.name!r}: 1 to {MAX_NAME_BYTES} bytes, without '/'")
    keys = curve_keys(args)
    lava_run = find_lava_run(args.lava_run)
    setup_logging(args.level, args.log_file)
    try:
        lock = lock_worker_dir(args.worker_dir.resolve())
    except OSError as exc:
        raise ConfigurationError(f"--worker-dir {args.worker_dir}: {exc.strerror or exc}") from None
    allowed_file_dirs = allowed_folders(args.allow_file_dir)
    store = JobStore(args.worker_dir.resolve(), lava_run, args.cancel_kill_after, allowed_file_dirs)
    link = MasterLink(args.master, args.name, args.heartbeat, keys)
    worker = Worker(link, store, exit_on_refused=args.exit_on_refused)
    worker.install_signals()
    logging.getLogger("lava-worker").info(
        "lava-worker %s started; lava-run is %s; jobs may read local files below: %s",
        args.name, lava_run, ", ".join(map(str, allowed_file_dirs)) or "no folder",
    )
    try:
        worker.run()
    finally:
        lock.close()


def main(argv: list[str] | None = None) -> NoReturn:
    args = build_parser().parse_args(argv)
    # job files and lava-run's output (which inherits the umask) may hold the job's secrets
    restrict_umask()
    try:
        run(args)
    except (ConfigurationError, WorkerExit) as exc:
        print(f"lava-worker: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()

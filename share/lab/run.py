#!/usr/bin/env python3
"""Start a whole trial lab in the foreground: server, scheduler, master, coordinator, worker and three virtual boards.

Run through ``./lab.sh``, which prepares the host and the Python environment.
The boards: QEMU x86_64 and arm64 devices of the ``qemu`` type (run by the
dispatcher itself), and a QEMU arm64 machine running real U-Boot whose serial
line is served by ser2net and whose power is switched by pdudaemon. The web
is served by gunicorn with the packaged service's settings (``--dev-server``:
Django's development server). A daemon that ends is started again with
back-off (``supervise.py``); only Ctrl-C or SIGTERM stops the lab, and every
process started here with it, boards included.
"""

import argparse
import fcntl
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
VIRTUAL_LAB = REPO / "share" / "virtual-lab"
sys.path.insert(0, str(VIRTUAL_LAB))
from processes import ChildProcesses, StartError, kill_strays, wait_until  # noqa: E402
from supervise import Supervisor  # noqa: E402

sys.path.insert(0, str(HERE))
import catalog  # noqa: E402

WORKER = "lab-worker"
# the packaged web service's settings (worker model, threads, timeout); the lab binds its own port
PACKAGED_GUNICORN = REPO / "etc" / "lava-server" / "lava-server-gunicorn"


def say(message: str) -> None:
    print(f"[lab] {time.strftime('%H:%M:%S')} {message}", flush=True)


def packaged_gunicorn_args() -> list[str]:
    """GUNICORN_ARGS of the packaged service, without its unix socket and control socket."""
    for line in PACKAGED_GUNICORN.read_text().splitlines():
        if line.startswith("GUNICORN_ARGS="):
            # a shell assignment: unquote the value, then split it into words as the unit's $GUNICORN_ARGS
            words = shlex.split(" ".join(shlex.split(line.partition("=")[2])))
            break
    else:
        raise StartError(f"no GUNICORN_ARGS in {PACKAGED_GUNICORN}")
    kept = []
    while words:
        word = words.pop(0)
        if word in ("--bind", "-b", "--control-socket"):
            words.pop(0)
        elif not word.startswith(("--bind=", "--control-socket=")):
            kept.append(word)
    return kept


def web_command(args: argparse.Namespace, manage: list[str]) -> list[str]:
    if args.dev_server:
        return [*manage, "runserver", "--noreload", "--insecure", f"{args.listen}:{args.port}"]
    return [str(VENV_BIN / "gunicorn"), *packaged_gunicorn_args(), "--no-control-socket",
            "--bind", f"{args.listen}:{args.port}", "lava_server.wsgi_lab:application"]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=env_int("LAVA_LAB_PORT", 8000), help="web server port")
    parser.add_argument("--listen", default=os.environ.get("LAVA_LAB_LISTEN", "127.0.0.1"))
    parser.add_argument("--master-port", type=int, default=env_int("LAVA_LAB_MASTER_PORT", 5556),
                        help="lava-master's port; the next two carry its and the scheduler's wake-ups")
    parser.add_argument("--events-port", type=int, default=env_int("LAVA_LAB_EVENTS_PORT", 5500),
                        help="lava-publisher's ZeroMQ PUB port (its websocket: the next port, at /ws/ of the web)")
    parser.add_argument("--pdu-port", type=int, default=env_int("LAVA_LAB_PDU_PORT", 16421))
    parser.add_argument("--coordinator-port", type=int, default=env_int("LAVA_LAB_COORDINATOR_PORT", 3079),
                        help="lava-coordinator's port (MultiNode messages)")
    parser.add_argument("--telnet-port", type=int, default=env_int("LAVA_LAB_TELNET_PORT", 7101),
                        help="ser2net port of the U-Boot board's console (the port before it: ser2net control)")
    parser.add_argument("--ssh-port", type=int, default=env_int("LAVA_LAB_SSH_PORT", 7022),
                        help="sshd port of the ssh host board (ssh-host-01)")
    parser.add_argument("--no-samples", action="store_true", help="do not submit the sample jobs")
    parser.add_argument("--boards", default=os.environ.get("LAVA_LAB_BOARDS", "default"),
                        help="comma-separated boards to run (hostnames, 'default', 'all'; see --list-boards)")
    parser.add_argument("--list-boards", action="store_true", help="list the boards the lab can run and exit")
    parser.add_argument("--dev-server", action="store_true",
                        help="serve the web with Django's development server instead of gunicorn "
                             "(for developers: slow, one request at a time on a kept-alive connection)")
    return parser.parse_args()


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def prepare_images(network_root: bool = False, media: bool = False) -> Path:
    images = Path(os.environ.get("LAVA_TEST_IMAGES")
                  or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lava" / "test-images")
    started = time.monotonic()
    say(f"test images: checking {images} (the first build downloads Debian's kernels, about 40 s)")
    scripts = ["build.sh", "build-netroot.sh"] if network_root else ["build.sh"]
    if media:  # the secondary-media board's master OS and disk image
        scripts.append("build-media.sh")
    for script in scripts:
        result = subprocess.run(["sh", str(REPO / "share" / "test-images" / script), str(images)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            raise StartError(f"building the test images ({script}) failed:\n{result.stdout[-3000:]}")
    # the virtual phone's boot and system images, made from those in a second (mkbootimg, img2simg)
    android = subprocess.run(["sh", str(REPO / "share" / "test-images" / "build-android.sh"), str(images)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if android.returncode != 0:
        say(f"test images: no Android images, fastboot-phone-01 cannot pass its health check: {android.stdout[-300:]}")
    say(f"test images: {images} ({time.monotonic() - started:.1f} s)")
    return images


def prepare_pdudaemon() -> str:
    started = time.monotonic()
    say("pdudaemon: checking its venv (the first install from PyPI takes about a minute)")
    result = subprocess.run(["sh", str(VIRTUAL_LAB / "install-pdudaemon.sh")], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise StartError("installing pdudaemon failed (see above)")
    path = result.stdout.strip().splitlines()[-1]
    say(f"pdudaemon: {path} ({time.monotonic() - started:.1f} s)")
    return path


def virtual_lab_config(state: Path, args: argparse.Namespace) -> Path:
    path = state / "virtual-lab.yaml"
    boards = catalog.choose(args.boards)
    wirings = catalog.wirings(boards, args.telnet_port, f"127.0.0.1:{args.pdu_port}")
    entries = []
    for board in boards:
        if board.hostname in wirings:
            wiring = wirings[board.hostname]
            entries.append({"name": board.hostname, "kind": board.kind, "outlet": wiring.outlet,
                            "telnet_port": wiring.telnet_port, "tftp_root": str(state / "worker" / "tftp"),
                            **board.kind_options})
            if board.kind_options.get("nfs_server"):
                # the worker's nfs_root (provision.py writes it into dispatcher.yaml)
                entries[-1].update(nfs_root=str(state / "worker" / "nfs"), nfs_port=wiring.nfs_port)
    ssh_hosts = [{"name": board.hostname, "port": catalog.ssh_host_port()} for board in boards
                 if board.kind_options.get("peer") == catalog.SSH_HOST_PEER]
    path.write_text("# written by share/lab/run.py at each start\n" + yaml.safe_dump({
        "state_dir": str(state / "virtual-lab"),
        "listen": "127.0.0.1",
        "pdu": {"port": args.pdu_port, "hostname": catalog.PDU},
        "ser2net": {"control_port": args.telnet_port - 1},
        "boards": entries,
        "ssh_hosts": ssh_hosts,
    }, sort_keys=False))
    return path


def coordinator_config(state: Path, args: argparse.Namespace) -> Path:
    """lava-coordinator.conf, read by the coordinator and by the worker's lava-run (dispatcher.yaml)."""
    path = state / "lava-coordinator.conf"
    path.write_text(json.dumps({"port": args.coordinator_port, "blocksize": 4096, "poll_delay": 1,
                                "coordinator_hostname": "127.0.0.1"}) + "\n")
    return path


def start_dockerd(children: ChildProcesses, state: Path, env: dict, images: Path) -> None:
    """The lab's private docker daemon with the busybox image, for as long as the lab runs."""
    result = subprocess.run(["sh", str(REPO / "share" / "test-images" / "build-container-rootfs.sh"), str(images)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise StartError(f"building the container rootfs failed:\n{result.stdout[-2000:]}")
    scratch = state / catalog.DOCKERD_STATE
    (scratch / "ready").unlink(missing_ok=True)
    tarball = images / "containers" / "busybox-rootfs.tar"
    children.start("dockerd", [sys.executable, str(VIRTUAL_LAB / "private_dockerd.py"), str(scratch),
                               "--import", f"{tarball}={catalog.DOCKER_IMAGE}"], env=env)
    wait_until(lambda: (scratch / "ready").exists(), 60, "the private dockerd", children)
    say(f"dockerd: unix://{scratch / 'docker.sock'} (image {catalog.DOCKER_IMAGE}; host networking untouched)")


def start_lab(
    children: ChildProcesses, state: Path, args: argparse.Namespace, env: dict, pdudaemon: str, images: Path
) -> None:
    manage = [str(VENV_BIN / "lava-server"), "manage"]
    keys = state / "keys"
    url = f"http://{args.listen}:{args.port}"
    vlab_state = state / "virtual-lab"
    (vlab_state / "ready").unlink(missing_ok=True)
    children.start("virtual-lab", [sys.executable, str(VIRTUAL_LAB / "virtual_lab.py"), "run",
                                   str(virtual_lab_config(state, args))], env={**env, "PDUDAEMON": pdudaemon})
    children.start("web", web_command(args, manage), env=env)
    children.start("scheduler", [*manage, "lava-scheduler"], env=env)
    children.start("coordinator", [sys.executable, "-m", "lava_common.coordinator", "--config",
                                   str(coordinator_config(state, args)), "--logfile", "-", "--listen", "127.0.0.1"],
                   env=env)
    children.start("publisher", [*manage, "lava-publisher"], env=env)
    children.start("master", [*manage, "lava-master", "--master-cert", str(keys / "master.key_secret")], env=env)
    if catalog.needs_dockerd(catalog.choose(args.boards)):
        start_dockerd(children, state, env, images)
    wait_until(lambda: (vlab_state / "ready").exists(), 60, "ser2net and pdudaemon", children)
    wirings = catalog.wirings(catalog.choose(args.boards), args.telnet_port, f"127.0.0.1:{args.pdu_port}")
    for hostname, wiring in wirings.items():
        say(f"{hostname}: console on telnet localhost {wiring.telnet_port}, power on pdudaemon "
            f"127.0.0.1:{args.pdu_port} (PDU {catalog.PDU}, outlet {wiring.outlet})")
    children.start("worker", [
        str(VENV_BIN / "lava-worker"), "--master", f"tcp://127.0.0.1:{args.master_port}", "--name", WORKER,
        "--worker-dir", str(state / "worker" / "jobs"), "--master-cert", str(keys / "master.key"),
        "--worker-cert", str(keys / f"{WORKER}.key_secret"), "--heartbeat", "2",
        # jobs' file:// URLs may only name the test images (the health checks and sample jobs use them)
        "--allow-file-dir", str(images),
    ], env=env)
    children.start("watch", [sys.executable, str(HERE / "watch.py")], env=env, to_terminal=True)
    wait_until(lambda: answers(args.listen, args.port), 60, "the web server", children)
    say(f"logs: {children.log_dir}/ (web, scheduler, master, publisher, coordinator, worker, virtual-lab); "
        f"job logs: {state / 'media' / 'job-output'}")
    server = "Django's development server (--dev-server)" if args.dev_server else "gunicorn"
    say(f"web server: {url}/  ({server}; Ctrl-C stops the lab)")


def main() -> int:
    args = parse_args()
    if args.list_boards:
        for board in catalog.BOARDS:
            print(f"{board.hostname:24} {board.device_type:20} {'default' if board.default else 'optional':9}"
                  f"{board.summary}")
        return 0
    try:
        catalog.choose(args.boards)
    except catalog.UnknownBoard as exc:
        say(str(exc))
        return 2
    state = Path(os.environ["LAVA_STATE_DIR"]).resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.environ["LAVA_LAB_SSH_PORT"] = str(args.ssh_port)  # the catalogue's ssh host dictionary, here and in provision
    started = time.monotonic()
    say(f"state directory: {state}" + ("  (database: LAVA_DATABASE_URL)" if os.environ.get("LAVA_DATABASE_URL")
                                       else "  (database: embedded SQLite)"))
    env = dict(
        os.environ,
        LAVA_STATE_DIR=str(state),
        LAVA_MASTER_BIND=f"tcp://127.0.0.1:{args.master_port}",
        LAVA_MASTER_EVENTS=f"tcp://127.0.0.1:{args.master_port + 1}",
        LAVA_SCHEDULER_EVENTS=f"tcp://127.0.0.1:{args.master_port + 2}",
        # events: every daemon pushes to lava-publisher, which publishes on PUB and on /ws/ of the web port
        LAVA_EVENT_INTERNAL=f"tcp://127.0.0.1:{args.master_port + 3}",
        LAVA_EVENT_SOCKET=f"tcp://127.0.0.1:{args.events_port}",
        LAVA_EVENT_WEBSOCKET=f"127.0.0.1:{args.events_port + 1}",
        LAVA_BASE_URL=f"http://{args.listen}:{args.port}",
        # the dispatcher runs pduclient and lava-run from here
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    # one lab per state directory: a second one would share its ports and, stopping, its processes
    lock = open(state / "lab.lock", "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        say(f"another lab is already running on {state} (pid {lock.read().strip() or '?'}); not starting")
        return 1
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    children = ChildProcesses(state / "logs")
    stopping = False

    def terminate(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    # explicitly: a lab started in the background by a script inherits SIGINT ignored
    signal.signal(signal.SIGINT, terminate)
    try:
        chosen = catalog.choose(args.boards)
        images = prepare_images(catalog.needs_nfs_server(chosen), catalog.needs_media_images(chosen))
        pdudaemon = prepare_pdudaemon()
        command = [sys.executable, str(HERE / "provision.py"), "--images", str(images),
                   "--telnet-port", str(args.telnet_port), "--pdu-port", str(args.pdu_port), "--boards", args.boards]
        if not args.no_samples:
            command.append("--samples")
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise StartError("setting up the lab's database and configuration failed (see above)")
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        admin = summary["admin"]
        url = f"http://{args.listen}:{args.port}"
        say(f"admin user: {admin['username']}  password: {admin['password']}")
        say(f"API token: {admin['token']}")
        say(f"lavacli: lavacli identities add --uri {url}/RPC2 --username {admin['username']} "
            f"--token {admin['token']} lab")
        say(f"worker {WORKER} (CURVE keys in {state / 'keys'}); devices: {', '.join(summary['devices'])}")
        if summary["new_devices"]:
            say(f"new devices start with a health check: {', '.join(summary['new_devices'])}")
        for job in summary["jobs"]:
            say(f"sample job {job['id']} submitted ({job['file']})")
        if summary["sample_jobs"]:
            example = next((job for job in summary["sample_jobs"] if job.endswith("/qemu-x86_64.yaml")),
                           summary["sample_jobs"][0])
            say(f"jobs for these boards and this lab's images, ready to submit: {state / 'sample-jobs'}/ "
                f"(lavacli -i lab jobs submit {example})")
        start_lab(children, state, args, env, pdudaemon, images)
        say(f"lab up in {time.monotonic() - started:.1f} s")

        def write_ready() -> None:
            daemons = {name: process.pid for name, process in children.processes.items()}
            # replaced whole: a script reading it during a restart must never see it half written
            (state / "lab-ready.new").write_text(json.dumps({"url": url, "pid": os.getpid(), "daemons": daemons}) + "\n")
            os.replace(state / "lab-ready.new", state / "lab-ready")

        def report(daemon: str, message: str) -> None:
            say(message)
            with open(children.log_path(daemon), "a") as log:
                log.write(f"[lab] {time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

        def clear_virtual_lab() -> None:
            # its boards daemonize: a new virtual lab must not find the old one's QEMU on their outlets
            kill_strays(str(state / "virtual-lab"))

        write_ready()
        supervisor = Supervisor(children, report, {"virtual-lab": clear_virtual_lab}, on_restart=write_ready)
        while True:  # only Ctrl-C or SIGTERM ends the lab
            supervisor.poll()
            time.sleep(0.5)
    except KeyboardInterrupt:
        stopping = True
        return 0
    except (StartError, subprocess.SubprocessError, OSError, ValueError) as exc:
        say(f"cannot start the lab: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave boards running
        say("stopping" if stopping else "stopping what was started")
        (state / "lab-ready").unlink(missing_ok=True)
        # the worker first: no new job starts while the rest goes down
        children.stop("worker")
        children.stop_all()
        # a stopped worker leaves its jobs running on purpose (it adopts them when it comes back)
        for stray in kill_strays(str(state)):
            say(f"stopped left-over process: {stray[:120]}")
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())

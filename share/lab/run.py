#!/usr/bin/env python3
"""Start a trial lab in the foreground: database, admin account, web server.

Run through ``./lab.sh``, which prepares the host and the Python environment.
Every process started here is stopped on Ctrl-C.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "lava-server"), "manage", *args],
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def say(message: str) -> None:
    print(f"[lab] {message}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("LAVA_LAB_PORT", "8000")))
    parser.add_argument("--listen", default=os.environ.get("LAVA_LAB_LISTEN", "127.0.0.1"))
    args = parser.parse_args()

    state = Path(os.environ["LAVA_STATE_DIR"])
    say(f"state directory: {state}")
    manage("migrate", "--no-input", "-v0")
    credentials = json.loads(manage("ensure-admin", capture=True))
    manage("device-types", "add", "*")
    url = f"http://{args.listen}:{args.port}"
    say(f"admin user: {credentials['username']}  password: {credentials['password']}")
    say(f"API token: {credentials['token']}")
    say(
        "lavacli: lavacli identities add --uri "
        f"{url}/RPC2 --username {credentials['username']} --token {credentials['token']} lab"
    )

    processes = [
        subprocess.Popen(
            [str(VENV_BIN / "lava-server"), "manage", "runserver", "--noreload", "--insecure",
             f"{args.listen}:{args.port}"],
            start_new_session=True,
        )
    ]
    say(f"web server: {url}/   (Ctrl-C stops the lab)")

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        say("a lab process ended unexpectedly; stopping the lab")
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())

"""Drive a running trial lab from outside, as a user would: lavacli over XML-RPC when the server
offers it, else ``lava-server manage`` commands and the job log files the lab prints the folder of."""

from __future__ import annotations

import json
import subprocess
import sys
import xmlrpc.client
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent


def rpc_available(url: str) -> bool:
    try:
        xmlrpc.client.ServerProxy(f"{url}/RPC2").system.version()
        return True
    except (OSError, xmlrpc.client.Error):
        return False


class LabClient:
    def __init__(self, url: str, username: str, token: str, env: dict[str, str], state: Path) -> None:
        self.env = env
        self.state = state
        self.username = username
        self.uri = url.replace("http://", f"http://{username}:{token}@") + "/RPC2"
        self.lavacli = rpc_available(url)

    @property
    def how(self) -> str:
        return "lavacli" if self.lavacli else "lava-server manage (no XML-RPC API yet)"

    def _run(self, *command: str) -> str:
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _cli(self, *args: str) -> str:
        return self._run(str(BIN / "lavacli"), "--uri", self.uri, *args)

    def _manage(self, *args: str) -> str:
        return self._run(str(BIN / "lava-server"), "manage", *args)

    def submit(self, path: Path) -> int:
        if self.lavacli:
            return int(self._cli("jobs", "submit", str(path)).split()[0])
        return int(self._manage("jobs", "submit", "--submitter", self.username, str(path)).split()[0])

    def submit_group(self, path: Path) -> list[str]:
        """A MultiNode submission: its sub-job ids ("12.0", "12.1"...), as lavacli prints them."""
        assert self.lavacli, "MultiNode sub-jobs are driven through lavacli"
        return self._cli("jobs", "submit", str(path)).split()

    def results(self, job_id: int | str) -> list[dict]:
        """The job's test cases as the server stores them (``lavacli results``)."""
        assert self.lavacli, "results are read through lavacli"
        return yaml.safe_load(self._cli("results", str(job_id), "--yaml")) or []

    def job(self, job_id: int | str) -> dict:
        """state, health, device (names as the web UI shows them)."""
        if self.lavacli:
            data = yaml.safe_load(self._cli("jobs", "show", str(job_id), "--yaml"))
            return {"state": data["state"], "health": data["health"], "device": data.get("device")}
        for row in json.loads(self._manage("jobs", "list", "--json", "--limit", "200")):
            if str(row["id"]) == str(job_id):
                return row
        raise AssertionError(f"job {job_id} is not listed")

    def jobs(self) -> list[dict]:
        """Every job; a MultiNode sub-job's id is the listed string (``8.1``), a single job's an int."""
        if self.lavacli:
            rows = yaml.safe_load(self._cli("jobs", "list", "--yaml"))
        else:
            rows = json.loads(self._manage("jobs", "list", "--json"))
        return [dict(row, id=job_id(row["id"])) for row in rows]

    def device_health(self, hostname: str) -> str:
        if self.lavacli:
            return yaml.safe_load(self._cli("devices", "show", hostname, "--yaml"))["health"]
        for row in json.loads(self._manage("devices", "list", "--json")):
            if row["hostname"] == hostname:
                return row["health"]
        raise AssertionError(f"device {hostname} is not listed")

    def log(self, job_id: int | str) -> list[dict]:
        if self.lavacli:
            return yaml.safe_load(self._cli("jobs", "logs", str(job_id), "--raw", "--no-follow")) or []
        matches = list((self.state / "media" / "job-output").glob(f"*/*/*/{job_id}/output.yaml"))
        if not matches:
            return []
        text = matches[0].read_text(errors="replace")
        # the last line may still be half written
        return yaml.safe_load(text[: text.rfind("\n") + 1]) or []


def job_id(listed: int | str) -> int | str:
    text = str(listed)
    return int(text) if text.isdigit() else text

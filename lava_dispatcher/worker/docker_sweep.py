"""What a job left on its docker daemon when its lava-run died without finishing (SIGKILL, OOM killer).

lava-run removes its test services (the compose project ``lava-<prefix><job>``)
and its containers (``lava-<prefix><job>-<role>``) in finalize; a lava-run
killed with SIGKILL never gets there. The worker then runs this module as a
process of its own (``python -m lava_dispatcher.worker.docker_sweep <job
dir>``), so that a slow or unreachable daemon never stalls its loop: it reads
the job's files as lava-run did (job, device, dispatcher configuration), finds
the daemon lava-run used, and removes the job's containers and everything
carrying its compose project's label. Exit status 0: nothing of the job is
left (or the job used no docker); 1: what stayed is on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from lava_common.exceptions import LAVAError
from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_dispatcher.actions.deploy.docker import device_remote
from lava_dispatcher.compose_cli import ComposeProject
from lava_dispatcher.device import parse_device, parse_dispatcher
from lava_dispatcher.docker_cli import DockerClient, container_name

SWEEP_TIMEOUT = 120  # seconds for docker-compose's part; each docker call has its own timeout


def uses_docker(definition: Any) -> bool:
    """Whether the job started anything on a docker daemon: test services, a docker device or test container."""
    actions = definition.get("actions") if isinstance(definition, dict) else None
    for action in actions if isinstance(actions, list) else ():
        for kind, block in (action.items() if isinstance(action, dict) else ()):
            if not isinstance(block, dict):
                continue
            if kind == "test" and ("services" in block or "docker" in block):
                return True
            if kind == "deploy" and block.get("to") == "docker":
                return True
    return False


def job_containers(client: DockerClient, prefix: str, job_id: str) -> list[str]:
    """The containers named after the job (the docker device, test containers), any state."""
    stem = container_name(prefix, job_id, "")  # 'lava-<prefix><job>-': the dash keeps job 1 from job 12
    names = client.check(["ps", "--all", "--format", "{{.Names}}", "--filter", f"name={stem}"],
                         "containers of the job").split()
    return [name for name in names if name.startswith(stem)]  # docker's filter matches anywhere in the name


def sweep(job_dir: Path, job_id: str) -> list[str]:
    """Remove the job's containers and compose project; what could not be removed, in words."""
    def load(name: str) -> Any:
        return load_yaml((job_dir / name).read_bytes())

    definition = load("job.yaml")
    if not uses_docker(definition):
        return []
    dispatcher = parse_dispatcher(load("dispatcher.yaml"))
    device = parse_device(load("device.yaml"), "device.yaml")
    client = DockerClient(dispatcher, device_remote(device))  # the daemon lava-run's services used
    project = ComposeProject.for_job(dispatcher, job_id, client)
    left = []
    try:
        containers = job_containers(client, dispatcher.prefix, job_id)
        if containers:
            client.check(["rm", "--force", "--volumes", *containers], "removing the job's containers")
            print(f"removed the job's containers: {', '.join(containers)}")
    except LAVAError as exc:
        left.append(str(exc))
    had = project.containers() or project.networks()
    left += project.down(SWEEP_TIMEOUT)  # no compose file: it removes by the project's label
    if had and not left:
        print(f"removed the test services of compose project '{project.name}'")
    return left


def main(argv: list[str]) -> int:
    job_dir = Path(argv[0])
    try:
        left = sweep(job_dir, job_dir.name)
    except (OSError, YAMLLoadError, LAVAError) as exc:
        left = [f"{type(exc).__name__}: {exc}"]
    for problem in left:
        print(problem, file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

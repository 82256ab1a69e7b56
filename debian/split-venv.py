#!/usr/bin/python3
"""Share the venv built in debian/tmp between the binary packages.

Each installed distribution goes to one package: the web side's libraries to
lava-server, the console libraries to lava-dispatcher, the rest (and the venv
itself) to lava-common. Our own distribution is split by top-level package and
console script. Works from each distribution's RECORD, so new files of a new
version land in the right package without editing lists of paths.
"""

import sys
from importlib.metadata import distributions
from pathlib import Path

VENV = Path("usr/lib/lava/venv")
DEFAULT = "lava-common"
BY_DISTRIBUTION = {
    "django": "lava-server",
    "djangorestframework": "lava-server",
    "asgiref": "lava-server",
    "sqlparse": "lava-server",
    "psycopg2-binary": "lava-server",
    "gunicorn": "lava-server",
    "packaging": "lava-server",
    "uritemplate": "lava-server",
    "inflection": "lava-server",
    "pexpect": "lava-dispatcher",
    "ptyprocess": "lava-dispatcher",
    "pyserial": "lava-dispatcher",
}
# our distribution "lava": top-level packages and scripts
BY_NAME = {
    "lava_server": "lava-server",
    "lava_scheduler": "lava-server",
    "lava-server": "lava-server",
    "lava_dispatcher": "lava-dispatcher",
    "lava-run": "lava-dispatcher",
    "lava-worker": "lava-dispatcher",
    "pduclient": "lava-dispatcher",
    "lava-coordinator": "lava-server",
}


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def units_of(dist, venv: Path, site: Path) -> set[Path]:
    """The top-level entries (site-packages dirs/files, bin scripts) a distribution owns."""
    units = set()
    for file in dist.files or []:
        path = (site / file).resolve() if str(file).startswith("..") else site / file
        relative = path.relative_to(venv)
        if relative.parts[0] == "bin":
            units.add(venv / relative)
        else:
            units.add(site / file.parts[0])
    return units


def package_for(dist_name: str, unit: Path) -> str:
    if dist_name == "lava":
        return BY_NAME.get(unit.name, DEFAULT)
    return BY_DISTRIBUTION.get(dist_name, DEFAULT)


def main(debian: Path) -> int:
    venv = (debian / "tmp" / VENV).resolve()
    (site,) = venv.glob("lib/python3*/site-packages")
    moves: dict[Path, str] = {}
    for dist in distributions(path=[str(site)]):
        name = normalise(dist.metadata["Name"])
        for unit in units_of(dist, venv, site):
            if unit.exists() or unit.is_symlink():
                moves[unit] = package_for(name, unit)
    for unit, package in sorted(moves.items()):
        if package != DEFAULT:
            target = debian / package / VENV / unit.relative_to(venv)
            target.parent.mkdir(parents=True, exist_ok=True)
            unit.rename(target)
    # what is left (the venv skeleton and shared libraries) is lava-common's
    target = debian / DEFAULT / VENV
    target.parent.mkdir(parents=True, exist_ok=True)
    venv.rename(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "debian")))

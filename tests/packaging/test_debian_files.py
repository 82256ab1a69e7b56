"""What dpkg-buildpackage would only find out minutes later: missing files, broken scripts."""

import re
import subprocess
from pathlib import Path

import pytest

from lava_common.yaml_loader import load_yaml

REPO = Path(__file__).resolve().parents[2]
DEBIAN = REPO / "debian"
ETC = REPO / "etc"
INIT_SCRIPTS = sorted((ETC / "init.d").iterdir())
UNITS = sorted((ETC / "systemd").glob("*.service"))
OPTION_FILES = [ETC / "lava-server" / name for name in (
    "lava-server-gunicorn", "lava-scheduler", "lava-master", "lava-publisher", "lava-coordinator")] + [
    ETC / "lava-dispatcher" / "lava-worker"
]
MAINTAINER_SCRIPTS = sorted(p for p in DEBIAN.iterdir() if p.suffix in (".postinst", ".prerm", ".postrm"))
PACKAGES = ["lava", "lava-server", "lava-dispatcher", "lava-common", "lava-dev"]


def install_lines():
    for install in DEBIAN.glob("*.install"):
        for line in install.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                yield install.name, line.split()[0]


def test_control_declares_the_packages():
    names = re.findall(r"^Package: (\S+)$", (DEBIAN / "control").read_text(), re.M)
    assert sorted(names) == sorted(PACKAGES)


@pytest.mark.parametrize("install,source", list(install_lines()), ids=lambda v: str(v))
def test_installed_files_exist(install, source):
    assert list(REPO.glob(source)), f"debian/{install}: {source} matches nothing"


@pytest.mark.parametrize("script", INIT_SCRIPTS + MAINTAINER_SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_parse(script):
    result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", INIT_SCRIPTS, ids=lambda p: p.name)
def test_init_scripts_have_lsb_header_and_actions(script):
    text = script.read_text()
    assert f"# Provides:          {script.name}\n" in text
    for action in ("start", "stop", "restart", "force-reload", "status"):
        assert re.search(rf"^\s*[\w|-]*\b{action}\b[\w|-]*\)", text, re.M), f"{script.name}: no {action})"


@pytest.mark.parametrize("script", INIT_SCRIPTS, ids=lambda p: p.name)
def test_each_init_script_has_a_unit(script):
    assert (ETC / "systemd" / f"{script.name}.service").exists()


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_run_programs_of_the_venv(unit):
    text = unit.read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", text, re.M)
    assert "/usr/lib/lava/venv/bin/" in exec_start or exec_start == "/bin/true"
    assert "[Install]" in text


@pytest.mark.parametrize("path", OPTION_FILES, ids=lambda p: p.name)
def test_option_files_suit_both_sh_and_systemd(path):
    # systemd's EnvironmentFile takes KEY="value" lines only: no shell code
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r'[A-Z_]+="[^"$`]*"', line), f"{path.name}: {line!r}"


MASTER_SOCKET = "ipc:///run/lava-master/master.sock"


def test_plaintext_default_is_the_masters_closed_unix_socket():
    master = (ETC / "lava-server" / "lava-master").read_text()
    worker = (ETC / "lava-dispatcher" / "lava-worker").read_text()
    assert f'MASTER_ARGS="--bind {MASTER_SOCKET} --plaintext' in master
    assert f'WORKER_ARGS="--master {MASTER_SOCKET} --plaintext' in worker
    assert not re.search(r'^[A-Z_]+=".*tcp://[^"]*--plaintext', master + worker, re.M)
    # the socket's folder: lavaserver's, opened to the lavaworker group, by the unit and by the init script
    unit = (ETC / "systemd" / "lava-master.service").read_text()
    assert "RuntimeDirectory=lava-master\n" in unit and "RuntimeDirectoryMode=0750\n" in unit
    assert "ExecStartPre=-+/bin/chgrp lavaworker /run/lava-master\n" in unit
    init = (ETC / "init.d" / "lava-master").read_text()
    assert "RUNTIME_DIR=/run/lava-master\n" in init and "RUNTIME_GROUP=lavaworker\n" in init
    assert 'install -d -m 0750 -o "$DAEMON_USER"' in (ETC / "init-functions.sh").read_text()


def test_no_daemon_runs_as_root():
    for unit in UNITS:
        if "ExecStart=/bin/true" not in unit.read_text():
            user = re.search(r"^User=(\S+)$", unit.read_text(), re.M)
            assert user and user.group(1) != "root", f"{unit.name}: no User= (root)"
    for script in INIT_SCRIPTS:
        text = script.read_text()
        if "lava_main" in text:
            user = re.search(r"^DAEMON_USER=(\S+)$", text, re.M)
            assert user and "root" not in user.group(1), f"{script.name}: DAEMON_USER {user and user.group(1)}"


def test_worker_runs_as_lavaworker_with_the_groups_of_serial_and_kvm():
    unit = (ETC / "systemd" / "lava-worker.service").read_text()
    assert "User=lavaworker\nGroup=lavaworker\nSupplementaryGroups=dialout\n" in unit
    assert "DAEMON_USER=${WORKER_USER:-lavaworker}\n" in (ETC / "init.d" / "lava-worker").read_text()
    assert 'WORKER_USER="lavaworker"' in (ETC / "lava-dispatcher" / "lava-worker").read_text()
    postinst = (DEBIAN / "lava-dispatcher.postinst").read_text()
    assert re.search(r"adduser --system --group .*\n.*\"\$WORKER_USER\"", postinst)
    assert "for group in dialout kvm plugdev" in postinst
    # what the worker writes belongs to it: every folder the package makes under /var
    owned = re.search(r'chown -R "\$WORKER_USER:\$WORKER_USER" (.*)', postinst).group(1).split()
    for folder in (DEBIAN / "lava-dispatcher.dirs").read_text().split():
        if folder.startswith("var/"):
            assert any(f"/{folder}".startswith(path) for path in owned), f"{folder} stays root's"
    assert "deluser --quiet --system lavaworker" in (DEBIAN / "lava-dispatcher.postrm").read_text()
    assert re.search(r"^Depends: adduser,$", (DEBIAN / "control").read_text().split("Package: lava-dispatcher")[1],
                     re.M)


def test_apache_site_proxies_to_the_gunicorn_socket():
    site = (ETC / "apache2" / "lava-server.conf").read_text()
    gunicorn = (ETC / "lava-server" / "lava-server-gunicorn").read_text()
    socket = re.search(r"--bind unix:(\S+?)[\" ]", gunicorn).group(1)
    assert f"ProxyPass / unix:{socket}|" in site
    assert "ProxyPass /static/ !" in site


def test_requirements_are_exact_pins_covering_pyproject():
    pins = {}
    for line in (DEBIAN / "python-requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"python-requirements.txt: {line!r} is not pinned with =="
            pins[name.lower()] = version
    pyproject = (REPO / "pyproject.toml").read_text()
    block = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    for requirement in re.findall(r'"([A-Za-z0-9_.-]+)', block):
        assert requirement.lower() in pins, f"{requirement} (pyproject.toml) is not in python-requirements.txt"
    assert "gunicorn" in pins


def test_settings_example_is_yaml():
    data = load_yaml((ETC / "examples" / "settings.yaml").read_text())
    assert {"DATABASE_URL", "SECRET_KEY", "STATE_DIR", "CONFIG_DIR"} <= set(data)


def test_every_console_script_is_linked_into_usr_bin():
    pyproject = (REPO / "pyproject.toml").read_text()
    block = pyproject.split("[project.scripts]\n", 1)[1].split("\n\n", 1)[0]
    scripts = [line.split("=")[0].strip() for line in block.splitlines() if "=" in line]
    assert "lava-coordinator" in scripts
    links = (DEBIAN / "lava-server.links").read_text() + (DEBIAN / "lava-dispatcher.links").read_text()
    split = (DEBIAN / "split-venv.py").read_text()
    for script in scripts:
        assert f"usr/lib/lava/venv/bin/{script} usr/bin/{script}\n" in links, script
        assert f'"{script}": ' in split, f"split-venv.py: {script} has no package"
    # ours replaces Debian's lava-coordinator package, which ships the same /usr/bin/lava-coordinator
    server = (DEBIAN / "control").read_text().split("Package: lava-server")[1].split("\nPackage:")[0]
    assert "Conflicts: lava-coordinator" in server and "Replaces: lava-coordinator" in server

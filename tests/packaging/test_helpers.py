"""share/postinst.py (settings file) and debian/split-venv.py (venv shared between packages)."""

import importlib.util
import os
import stat
from pathlib import Path

import pytest

from lava_common.yaml_loader import load_yaml

REPO = Path(__file__).resolve().parents[2]


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


postinst = load(REPO / "share" / "postinst.py", "lava_postinst")
split_venv = load(REPO / "debian" / "split-venv.py", "lava_split_venv")


@pytest.fixture(autouse=True)
def no_database_override(monkeypatch):
    # the settings file is what these tests read; the environment would take precedence
    monkeypatch.delenv("LAVA_DATABASE_URL", raising=False)


def test_settings_with_local_postgresql(tmp_path):
    path = tmp_path / "settings.yaml"
    assert postinst.write_settings(path, local_postgresql=True)
    data = load_yaml(path.read_text())
    assert data["DATABASE_URL"].startswith("postgresql://lavaserver:")
    assert data["DATABASE_URL"].endswith("@localhost:5432/lavaserver")
    assert len(data["SECRET_KEY"]) >= 50
    assert data["STATE_DIR"] == "/var/lib/lava-server/default"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert postinst.read_database_url(path) == data["DATABASE_URL"]


def test_settings_without_postgresql_leave_sqlite(tmp_path):
    path = tmp_path / "settings.yaml"
    postinst.write_settings(path, local_postgresql=False)
    data = load_yaml(path.read_text())
    assert "DATABASE_URL" not in data
    assert postinst.read_database_url(path) == ""


def test_settings_an_admin_wrote_are_kept(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("DEBUG: true\n")
    assert not postinst.write_settings(path, local_postgresql=True)
    assert path.read_text() == "DEBUG: true\n"


def test_broken_settings_are_reported_with_the_file(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("DATABASE_URL: [unclosed\n")
    with pytest.raises(postinst.SetupError, match=str(path)):
        postinst.read_database_url(path)


def test_two_passwords_differ(tmp_path):
    postinst.write_settings(tmp_path / "a.yaml", True)
    postinst.write_settings(tmp_path / "b.yaml", True)
    assert (tmp_path / "a.yaml").read_text() != (tmp_path / "b.yaml").read_text()


def fake_distribution(site: Path, name: str, files: list[str]) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    records = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{record},,\n" for record in records))
    for record in files:
        path = (site / record).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_split_venv_by_distribution_and_by_our_packages(tmp_path):
    debian = tmp_path / "debian"
    venv = debian / "tmp" / "usr/lib/lava/venv"
    site = venv / "lib/python3.11/site-packages"
    (venv / "bin").mkdir(parents=True)
    os.symlink("/usr/bin/python3", venv / "bin" / "python3")
    fake_distribution(site, "Django", ["django/__init__.py", "../../../bin/django-admin"])
    fake_distribution(site, "PyYAML", ["yaml/__init__.py", "_yaml/__init__.py"])
    fake_distribution(site, "pexpect", ["pexpect/__init__.py"])
    fake_distribution(site, "lava", [
        "lava_server/__init__.py", "lava_scheduler/__init__.py", "lava_dispatcher/__init__.py",
        "lava_common/__init__.py", "../../../bin/lava-server", "../../../bin/lava-run",
    ])
    assert split_venv.main(debian) == 0

    def owner(relative: str) -> str:
        found = [p for p in ("lava-common", "lava-server", "lava-dispatcher")
                 if (debian / p / "usr/lib/lava/venv" / relative).exists()]
        assert len(found) == 1, f"{relative}: in {found}"
        return found[0]

    site_rel = "lib/python3.11/site-packages/"
    assert owner(site_rel + "django/__init__.py") == "lava-server"
    assert owner(site_rel + "Django-1.0.dist-info/RECORD") == "lava-server"
    assert owner("bin/django-admin") == "lava-server"
    assert owner(site_rel + "yaml/__init__.py") == "lava-common"
    assert owner(site_rel + "pexpect/__init__.py") == "lava-dispatcher"
    assert owner(site_rel + "lava_server/__init__.py") == "lava-server"
    assert owner(site_rel + "lava_scheduler/__init__.py") == "lava-server"
    assert owner(site_rel + "lava_dispatcher/__init__.py") == "lava-dispatcher"
    assert owner(site_rel + "lava_common/__init__.py") == "lava-common"
    assert owner(site_rel + "lava-1.0.dist-info/METADATA") == "lava-common"
    assert owner("bin/lava-run") == "lava-dispatcher"
    assert owner("bin/lava-server") == "lava-server"
    assert (debian / "lava-common/usr/lib/lava/venv/bin/python3").is_symlink()
    assert not (debian / "tmp" / "usr/lib/lava/venv").exists()

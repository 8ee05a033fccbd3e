"""tools/system_libs.py: the system libraries `make run` checks before installing are the ones the installed Qt
platform plugins really load, and a missing one stops with the one apt-get line that adds it."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "system_libs.py"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF shared libraries: Linux only")


@pytest.fixture(scope="module")
def system_libs():
    spec = importlib.util.spec_from_file_location("system_libs", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site_packages() -> Path:
    import PySide6

    return Path(PySide6.__file__).resolve().parents[1]


def test_table_is_what_the_installed_wheel_needs(system_libs, site_packages):
    """Re-read the DT_NEEDED entries of the plugins, the PySide6 modules and every wheel library they load:
    each system soname is in the table under its platform, and the table names nothing they do not need."""
    scanned = system_libs.scan(str(site_packages))
    table = {platform: set(needs) for platform, needs in system_libs.NEEDS.items()}
    assert scanned == table, "the PySide6 wheel changed: rerun `python3 tools/system_libs.py --scan SITE_PACKAGES`"
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", p) for needs in system_libs.NEEDS.values() for p in needs.values())


def test_elf_reader_agrees_with_readelf(system_libs, site_packages):
    if not shutil.which("readelf"):
        pytest.skip("readelf (binutils) not installed")
    plugin = site_packages / "PySide6/Qt/plugins/platforms/libqxcb.so"
    listing = subprocess.run(["readelf", "-d", str(plugin)], capture_output=True, text=True, check=True).stdout
    assert system_libs.elf_needed(str(plugin)) == re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", listing)


def test_every_library_ldd_cannot_find_is_reported(system_libs, site_packages):
    """What the system linker cannot resolve for the xcb plugin (ldd, the way Qt loads it) is exactly what the
    check reports missing for a real window: nothing more, nothing less, whatever this machine has installed."""
    if not shutil.which("ldd"):
        pytest.skip("ldd not installed")
    plugin = site_packages / "PySide6/Qt/plugins/platforms/libqxcb.so"
    listing = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=True).stdout
    not_found = set(re.findall(r"^\s*(\S+) => not found", listing, flags=re.M))
    direct = {s for s in not_found if s in system_libs.needs_of("xcb")}
    reported = {s for s in system_libs.needs_of("xcb") if not system_libs.loadable(s)}
    assert direct == reported
    # a soname ldd misses only transitively comes from a missing direct need, whose package brings it back
    assert not (not_found - direct) or reported


def test_missing_library_stops_with_the_install_line(system_libs, monkeypatch, capsys):
    gone = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    monkeypatch.setattr(system_libs, "loadable", lambda soname: soname not in gone)
    monkeypatch.setattr(system_libs, "apt_name", lambda package: package)
    monkeypatch.setattr(system_libs.shutil, "which", lambda name: None)  # no apt lists to consult
    assert system_libs.check("xcb") == 1
    message, line = capsys.readouterr().err.strip().splitlines()
    assert "libxcb-icccm.so.4" in message and "libxcb-keysyms.so.1" in message
    assert line.endswith("apt-get install -y libxcb-icccm4 libxcb-keysyms1")
    assert system_libs.check("offscreen") == 0, "offscreen (make test) must not stop over window-only libraries"
    assert system_libs.check("wayland") == 0
    gone.add("libwayland-egl.so.1")
    assert system_libs.check("wayland-egl") == 1, "a variant of the wayland plugin needs what wayland needs"
    assert capsys.readouterr().err.strip().endswith("apt-get install -y libwayland-egl1")


def test_offscreen_needs_are_met_here_with_the_system_python_alone():
    """The script runs before any venv exists: stdlib only, isolated from site-packages."""
    done = subprocess.run([sys.executable, "-I", "-S", str(TOOL), "offscreen"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, "wayland"),
        ({"DISPLAY": ":0"}, "xcb"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "wayland"),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, "xcb"),
    ],
)
def test_platform_in_use(system_libs, monkeypatch, env, expected):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert system_libs.platform_in_use() == expected


def test_python_without_venv_names_its_package(system_libs, monkeypatch, capsys):
    """Debian's python3 cannot make a venv until python3.X-venv is installed: said before installing anything."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "ensurepip" else real_find_spec(name))
    monkeypatch.setattr(system_libs, "loadable", lambda soname: True)
    monkeypatch.setattr(system_libs.shutil, "which", lambda name: None)
    assert system_libs.check("offscreen") == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.endswith(f"apt-get install -y python3.{sys.version_info[1]}-venv")


def test_readme_names_the_packages_a_real_window_needs(system_libs):
    packages = " ".join(sorted(set(system_libs.needs_of("xcb").values())))
    readme = " ".join((REPO / "README.md").read_text().replace("\\\n", " ").split())
    assert packages in readme, f"README's set-up should list: {packages}"


@pytest.mark.parametrize(("target", "argument"), [("run", ""), ("test", " offscreen"), ("test-fast", " offscreen")])
def test_make_checks_the_system_before_installing(target, argument):
    """`make -n` lists the recipe: the check comes first, before the venv, pip and the editor or pytest."""
    if not shutil.which("make"):
        pytest.skip("make not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}  # under `make test`
    listed = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", target, "PY=python3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    ).stdout.splitlines()
    assert listed[0] == f"python3 tools/system_libs.py{argument}"
    assert any("pip install" in line for line in listed[1:]), "the install follows the check"

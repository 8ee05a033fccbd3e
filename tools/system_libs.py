#!/usr/bin/env python3
"""The system libraries Qt needs for the platform plugin in use, and the one apt-get line that adds missing ones.

Stdlib only: ``make run`` runs it with the system python3 before anything is installed, so a machine that lacks
a library stops at once with the command that adds it, not after minutes of installing and a Qt abort.

    python3 tools/system_libs.py [PLATFORM]
        exit 0 when every library is found and this Python can make a venv; else 1 and the command line
    python3 tools/system_libs.py --packages PLATFORM
        the Debian/Ubuntu packages PLATFORM needs, on one line (README's set-up line)
    python3 tools/system_libs.py --scan SITE_PACKAGES
        maintainers: the needs read from an installed PySide6, printed as the NEEDS table below

PLATFORM is the Qt platform plugin (``xcb``, ``wayland``, ``offscreen``, ...); without it, the one Qt would
pick here. ``NEEDS`` is what ``--scan`` reads from the ELF headers (DT_NEEDED) of the plugin, of the PySide6
modules the editor imports, and of every Qt library of the wheel they load, keeping the libraries that come
from the system. Each platform lists only what it adds to ``base``, which every platform needs (offscreen
included), so ``make test`` never stops over what only a real window needs. ``tests/test_system_libs.py``
re-scans the installed wheel, so the table cannot go stale silently.
"""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess
import sys

# The PySide6 files whose needs each platform adds (relative to site-packages/PySide6): the modules the editor
# and pyqtgraph import, and each platform's plugin with the plugins it loads at start.
ROOTS = {
    "base": [
        "QtCore.abi3.so",
        "QtGui.abi3.so",
        "QtWidgets.abi3.so",
        "QtSvg.abi3.so",
        "QtOpenGL.abi3.so",
        "QtOpenGLWidgets.abi3.so",
        "QtTest.abi3.so",
        "Qt/plugins/platforms/libqoffscreen.so",
    ],
    "xcb": ["Qt/plugins/platforms/libqxcb.so", "Qt/plugins/xcbglintegrations/*.so"],
    "wayland": [
        "Qt/plugins/platforms/libqwayland.so",
        "Qt/plugins/wayland-shell-integration/libxdg-shell.so",
        "Qt/plugins/wayland-decoration-client/*.so",
        "Qt/plugins/wayland-graphics-integration-client/libqt-plugin-wayland-egl.so",
    ],
}
# Folders (relative to site-packages) where the wheels' own libraries live: needs met there are not the system's.
WHEEL_LIB_DIRS = ["PySide6/Qt/lib", "PySide6", "shiboken6"]
# Part of every system that runs Python: never worth naming.
MINIMAL = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libstdc++.so.6",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
}

# platform -> {soname: Debian/Ubuntu package}; from `--scan` on PySide6-Essentials 6.11.3 (packages: Debian 12).
NEEDS = {
    "base": {
        "libEGL.so.1": "libegl1",
        "libGL.so.1": "libgl1",
        "libX11.so.6": "libx11-6",
        "libdbus-1.so.3": "libdbus-1-3",
        "libfontconfig.so.1": "libfontconfig1",
        "libfreetype.so.6": "libfreetype6",
        "libglib-2.0.so.0": "libglib2.0-0",
        "libgthread-2.0.so.0": "libglib2.0-0",
        "libxkbcommon.so.0": "libxkbcommon0",
        "libz.so.1": "zlib1g",
        "libzstd.so.1": "libzstd1",
    },
    "xcb": {
        "libX11-xcb.so.1": "libx11-xcb1",
        "libxcb-cursor.so.0": "libxcb-cursor0",
        "libxcb-glx.so.0": "libxcb-glx0",
        "libxcb-icccm.so.4": "libxcb-icccm4",
        "libxcb-image.so.0": "libxcb-image0",
        "libxcb-keysyms.so.1": "libxcb-keysyms1",
        "libxcb-randr.so.0": "libxcb-randr0",
        "libxcb-render-util.so.0": "libxcb-render-util0",
        "libxcb-render.so.0": "libxcb-render0",
        "libxcb-shape.so.0": "libxcb-shape0",
        "libxcb-shm.so.0": "libxcb-shm0",
        "libxcb-sync.so.1": "libxcb-sync1",
        "libxcb-util.so.1": "libxcb-util1",
        "libxcb-xfixes.so.0": "libxcb-xfixes0",
        "libxcb-xkb.so.1": "libxcb-xkb1",
        "libxcb.so.1": "libxcb1",
        "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    },
    "wayland": {
        "libwayland-client.so.0": "libwayland-client0",
        "libwayland-cursor.so.0": "libwayland-cursor0",
        "libwayland-egl.so.1": "libwayland-egl1",
    },
}
HEADLESS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "minimalegl", "vkkhrdisplay")


def elf_needed(path: str) -> list[str]:
    """The DT_NEEDED sonames of an ELF shared object (what `readelf -d` lists as NEEDED), read with struct."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not an ELF file")
    wide, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if wide:
        (shoff,) = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
        section, entry = order + "IIQQQQIIQQ", order + "qQ"
    else:
        (shoff,) = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
        section, entry = order + "IIIIIIIIII", order + "iI"
    sections = [struct.unpack_from(section, data, shoff + i * shentsize) for i in range(shnum)]
    needed = []
    for _name, kind, _flags, _addr, offset, size, link, *_ in sections:
        if kind != 6:  # SHT_DYNAMIC
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, struct.calcsize(entry)):
            tag, value = struct.unpack_from(entry, data, at)
            if tag == 0:  # DT_NULL
                break
            if tag == 1:  # DT_NEEDED
                start = strings + value
                needed.append(data[start : data.index(b"\0", start)].decode())
    return needed


def scan(site: str) -> dict[str, set[str]]:
    """platform -> the system sonames its roots and the wheel libraries they load need (each beyond `base`)."""
    wheel_libs = {}
    for folder in WHEEL_LIB_DIRS:
        for path in glob.glob(os.path.join(site, folder, "*.so*")):
            wheel_libs.setdefault(os.path.basename(path), path)

    def system_needs(roots: list[str]) -> set[str]:
        todo = [p for pattern in roots for p in sorted(glob.glob(os.path.join(site, "PySide6", pattern)))]
        if not todo:
            raise FileNotFoundError(f"none of {roots} under {site}/PySide6")
        seen, found = set(todo), set()
        while todo:
            for soname in elf_needed(todo.pop()):
                if soname in wheel_libs:
                    if wheel_libs[soname] not in seen:
                        seen.add(wheel_libs[soname])
                        todo.append(wheel_libs[soname])
                elif soname not in MINIMAL:
                    found.add(soname)
        return found

    base = system_needs(ROOTS["base"])
    out = {"base": base}
    for platform, roots in ROOTS.items():
        if platform != "base":
            out[platform] = system_needs(ROOTS["base"] + roots) - base
    return out


def platform_in_use() -> str:
    """The platform plugin Qt would load here: QT_QPA_PLATFORM's first choice, else Wayland in a Wayland
    session, else X11."""
    asked = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked
    wayland_session = os.environ.get("XDG_SESSION_TYPE") == "wayland" or not os.environ.get("DISPLAY")
    return "wayland" if wayland_session and os.environ.get("WAYLAND_DISPLAY") else "xcb"


def needs_of(platform: str) -> dict[str, str]:
    """soname -> package for everything the platform needs (base included); headless plugins need only base."""
    needs = dict(NEEDS["base"])
    if platform not in HEADLESS:
        needs.update(NEEDS.get("wayland" if platform.startswith("wayland") else platform, {}))
    return needs


def loadable(soname: str) -> bool:
    """Whether the dynamic linker finds the library, as Qt's loader would (its cache, LD_LIBRARY_PATH...)."""
    import ctypes

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def apt_name(package: str) -> str:
    """The package as this system's apt knows it: Debian 13 and Ubuntu 24.04 renamed some with a `t64` suffix."""
    if not shutil.which("apt-cache"):
        return package
    for candidate in (package, package + "t64"):
        shown = subprocess.run(["apt-cache", "show", candidate], capture_output=True, text=True)
        if shown.returncode == 0 and shown.stdout.strip():
            return candidate
    return package


def install_line(packages: list[str]) -> str:
    """The one command that adds the packages; with an `apt-get update` first where apt has no lists for them."""
    sudo = "sudo " if hasattr(os, "geteuid") and os.geteuid() != 0 else ""
    names = [apt_name(p) for p in packages]
    known = shutil.which("apt-cache") and all(
        subprocess.run(["apt-cache", "show", n], capture_output=True).returncode == 0 for n in names
    )
    update = "" if known else f"{sudo}apt-get update && "
    return f"{update}{sudo}apt-get install -y {' '.join(names)}"


def python_problems() -> tuple[list[str], list[str]]:
    """(what is wrong, packages that fix it) for this Python: too old, or no `venv` (Debian ships it apart)."""
    if sys.version_info < (3, 10):  # noqa: UP036 -- this runs on whatever python3 the system has, to say so
        found = ".".join(map(str, sys.version_info[:2]))
        return [f"Python >= 3.10 is needed, {sys.executable} is {found} (choose one with `make PY=python3.X ...`)"], []
    import importlib.util

    if importlib.util.find_spec("ensurepip") is None:
        return [f"{sys.executable} cannot create virtual environments"], [f"python3.{sys.version_info[1]}-venv"]
    return [], []


def check(platform: str) -> int:
    problems, packages = python_problems()
    if problems and not packages:
        print(f"graphedit: {problems[0]}", file=sys.stderr)
        return 1
    if sys.platform.startswith("linux"):
        missing = sorted(soname for soname in needs_of(platform) if not loadable(soname))
        if missing:
            where = "offscreen" if platform in HEADLESS else f"a real window ({platform})"
            problems.append(f"Qt needs system libraries for {where} that are missing here: {', '.join(missing)}")
            packages += sorted({needs_of(platform)[soname] for soname in missing})
    if not problems:
        return 0
    print(f"graphedit: {'; '.join(problems)}. Add them with:", file=sys.stderr)
    print(install_line(packages), file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["--scan"] and len(argv) == 2:
        found = scan(argv[1])
        for platform, sonames in found.items():
            table = NEEDS.get(platform, {})
            print(f'    "{platform}": {{')
            for soname in sorted(sonames):
                print(f'        "{soname}": "{table.get(soname, "?")}",')
            print("    },")
        return 0
    if argv[:1] == ["--packages"] and len(argv) == 2:
        print(" ".join(sorted(set(needs_of(argv[1]).values()))))
        return 0
    if len(argv) > 1 or argv[:1] and argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    return check(argv[0] if argv else platform_in_use())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env bash
# Install GraphEdit from its wheel into a brand-new virtual environment and use it: what a user of
# `pip install graphedit` gets, with nothing from this checkout on the path.
#
#   tools/fresh_install.sh [PYTHON]      (default: python3; keeps nothing unless KEEP=1)
#
# Makes a venv in a temp folder, builds the wheel there as `pip install .` would, installs the pinned torch,
# then the wheel, under constraints.txt, and runs `graphedit --version`, `graphedit check` on an example and
# the editor offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
python=${1:-python3}
work=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work"; else trap 'rm -rf "$work"' EXIT; fi

step() { printf '\n== %s\n' "$*"; }

step "fresh venv"
"$python" -m venv "$work/venv"
bin=$work/venv/bin
"$bin/python" -m pip install --quiet --upgrade pip

step "wheel, built as \`pip install .\` builds it (isolated, from a copy of the sources)"
mkdir -p "$work/src"
cp pyproject.toml setup.py README.md "$work/src/"
tar --exclude=__pycache__ --exclude='*.pyc' -cf - graphedit nodes resources | tar -xf - -C "$work/src"
"$bin/python" -m pip wheel "$work/src" --no-deps --quiet -w "$work/dist"
wheel=$(ls "$work"/dist/graphedit-*.whl)
basename "$wheel"

step "install: the pinned torch, then the wheel, under constraints.txt"
started=$SECONDS
"$bin/python" -m pip install --quiet -c constraints.txt torch==2.13.0
"$bin/python" -m pip install --quiet -c constraints.txt "$wheel"
echo "installed in $((SECONDS - started)) s; torch $("$bin/python" -c 'import torch; print(torch.__version__)')"

cd "$work"  # nothing of the checkout importable from here
step "graphedit --version"
"$bin/graphedit" --version

step "graphedit check projects/keras_cnn.gproj"
"$bin/graphedit" check "$repo/projects/keras_cnn.gproj"

step "the editor, offscreen, from the installed package"
QT_QPA_PLATFORM=offscreen HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_DATA_HOME="$work/home/data" \
  "$bin/python" - "$repo/projects/keras_cnn.gproj" <<'EOF'
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import graphedit
from graphedit.cli import main
from graphedit.ui.main_window import MainWindow

app = QApplication([sys.argv[0]])
title = []


def poll():
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if windows and "keras_cnn" in windows[0].windowTitle():
        title.append(windows[0].windowTitle())
        app.quit()
    else:
        QTimer.singleShot(50, poll)


QTimer.singleShot(0, poll)
QTimer.singleShot(120_000, app.quit)
code = main([sys.argv[1]])
if code != 0 or not title:
    sys.exit(f"the editor did not open the project (exit {code})")
print(f"opened {title[0]!r} from {graphedit.__file__}")
EOF

step "ok"

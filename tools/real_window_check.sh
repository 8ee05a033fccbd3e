#!/usr/bin/env bash
# A real window, as a new user gets it: a fresh clone, `make run` on an X server (Xvfb), the editor driven with
# xdotool: open the example, train it (F5), save (Ctrl+S), quit (Ctrl+Q), `make run` again: the trained weights
# are there. Screenshots of each step go to OUT_DIR.
#
#   tools/real_window_check.sh [OUT_DIR]       (default: out/real_window; needs Xvfb, xdotool, ImageMagick)
#
# It clones what is committed on the current branch (uncommitted changes are not in the clone). The first
# `make run` installs .venv in the clone (minutes). EPOCHS (default 2) shortens the example's training;
# REUSE_CLONE=DIR runs again in a clone kept by an earlier run (KEEP=1), its .venv installed, projects reset.
set -euo pipefail
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
out=$(realpath -m "${1:-$repo/out/real_window}")
epochs=${EPOCHS:-2}
project=projects/keras_cnn.gproj
install_timeout=${INSTALL_TIMEOUT:-1800}
window_timeout=${WINDOW_TIMEOUT:-300}
train_timeout=${TRAIN_TIMEOUT:-900}

missing=()
for tool in Xvfb:xvfb xdotool:xdotool import:imagemagick git:git make:make; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "real_window_check: missing tools; add them with:" >&2
  echo "sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] && echo "kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
say() { printf '[%4ds] %s\n' "$SECONDS" "$*"; }
fail() {
  say "FAILED: $*" >&2
  shot failed
  exit 1
}
shot() { import -window root "$out/$1.png" && say "screenshot $out/$1.png"; }

# an X server of its own, on a free display number
exec 3<> <(:)
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
pids+=($!)
read -r -t 30 display <&3 || fail "Xvfb did not start (see $out/xvfb.log)"
export DISPLAY=":$display"
unset WAYLAND_DISPLAY QT_QPA_PLATFORM
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" # a first start: no settings, no recovery
say "Xvfb on $DISPLAY"

if [ -n "${REUSE_CLONE:-}" ]; then
  cd "$REUSE_CLONE"
  git checkout --quiet -- projects && git clean -fdxq projects
else
  git clone --quiet "$repo" "$work/graphedit"
  cd "$work/graphedit"
fi
say "at $(git log -1 --format='%h %s' | cut -c1-80)"
python3 - "$project" "$epochs" <<'EOF'
import json, sys
path, epochs = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    data = json.load(f)
data["training"]["epochs"] = epochs
with open(path, "w") as f:
    json.dump(data, f, indent=1)
EOF

editor_pid= wid=
start_editor() {  # $1: log name; sets wid to the editor's window once it shows the project
  make run FILE=projects/keras_cnn.gproj >"$out/$1.log" 2>&1 &
  editor_pid=$!
  pids+=("$editor_pid")
  local deadline=$((SECONDS + install_timeout))
  until [ -e .venv/.installed ]; do
    kill -0 "$editor_pid" 2>/dev/null || { tail -5 "$out/$1.log" >&2; fail "make run ended during the install"; }
    [ $SECONDS -lt $deadline ] || fail "the install took over ${install_timeout}s (see $out/$1.log)"
    sleep 1
  done
  deadline=$((SECONDS + window_timeout))
  wid=
  until wid=$(xdotool search --onlyvisible --name 'keras_cnn' 2>/dev/null | head -1) && [ -n "$wid" ]; do
    kill -0 "$editor_pid" 2>/dev/null || { tail -5 "$out/$1.log" >&2; fail "make run ended before a window showed"; }
    [ $SECONDS -lt $deadline ] || fail "no editor window ${window_timeout}s after the install (see $out/$1.log)"
    sleep 1
  done
  xdotool windowfocus --sync "$wid" 2>/dev/null || true
}
title() { xdotool getwindowname "$1" 2>/dev/null || true; }
quit_editor() {  # $1: window id
  xdotool windowfocus --sync "$1" 2>/dev/null || true
  xdotool key --clearmodifiers ctrl+q
  local deadline=$((SECONDS + 60))
  while kill -0 "$editor_pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "the editor did not quit on Ctrl+Q (a question open?)"
    sleep 0.5
  done
}

say "make run (installs .venv on first use)"
start_editor make_run_1
say "window $wid: $(title "$wid")"
shot 01-opened

say "Run (F5), $epochs epochs"
xdotool key --clearmodifiers F5
deadline=$((SECONDS + train_timeout))
summary=
until summary=$(ls -t projects/keras_cnn*.runs/*/summary.json 2>/dev/null | head -1) && [ -n "$summary" ]; do
  [ $SECONDS -lt $deadline ] || fail "no finished run after ${train_timeout}s"
  [ -e "$out/02-training.png" ] || { ls -d projects/keras_cnn*.runs/*/ >/dev/null 2>&1 && sleep 3 && shot 02-training; }
  sleep 1
done
say "run finished: $summary: $(tr -d '\n ' <"$summary" | cut -c1-120)"
run_dir=$(dirname "$summary")
until [ -z "$(title "$wid" | grep -v '\*')" ]; do  # the title marks the trained weights unsaved
  [ $SECONDS -lt $((deadline + 30)) ] || { say "the title never showed '*': $(title "$wid")"; break; }
  sleep 0.5
done
shot 03-trained

say "Save (Ctrl+S)"
xdotool windowfocus --sync "$wid" 2>/dev/null || true
xdotool key --clearmodifiers ctrl+s
deadline=$((SECONDS + 30))
until python3 -c 'import json,sys; sys.exit(not json.load(open(sys.argv[1])).get("weights"))' "$project" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "after Ctrl+S the project has no weights entry"
  sleep 0.5
done
shot 04-saved
say "title after save: $(title "$wid")"
quit_editor "$wid"
say "quit"

say "make run again"
start_editor make_run_2
sleep 2 # let it paint before the picture; nothing is checked from it
shot 05-reopened
say "window $wid: $(title "$wid")"
quit_editor "$wid"

say "the weights, checked outside the editor"
.venv/bin/python - "$project" <<'EOF'
import hashlib, json, sys
from pathlib import Path
from safetensors import safe_open
project = Path(sys.argv[1])
weights = json.loads(project.read_text())["weights"]
path = project.parent / weights["path"]
assert hashlib.sha256(path.read_bytes()).hexdigest() == weights["sha256"], "the weights file does not match its SHA-256"
with safe_open(path, "pt") as f:
    print(f"weights: {weights['path']} ({len(list(f.keys()))} tensors, sha256 {weights['sha256'][:12]})")
EOF
case "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["weights"]["path"])' "$project")" in
  *"$(basename "$run_dir")"*) say "the project points into the run just trained: $(basename "$run_dir")" ;;
  *) fail "the project's weights are not those of the run just trained ($run_dir)" ;;
esac
.venv/bin/graphedit check "$project" | tail -1
.venv/bin/graphedit export "$project" --format safetensors -o "$work/exported.safetensors" | tail -1
say "ok: trained in the window, saved, reopened, and the weights are there (screenshots in $out)"

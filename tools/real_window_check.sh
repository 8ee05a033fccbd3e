#!/usr/bin/env bash
# A real window, as a new user gets it: a fresh clone, `make run` on an X server of its own (Xvfb), the editor driven
# with real pointer and key events (xdotool). Screenshots of each step go to OUT_DIR.
#
#   tools/real_window_check.sh [OUT_DIR]       (default: out/real_window; needs Xvfb, xdotool, ImageMagick)
#
# The default (MODE=mouse) builds a small network by mouse in a new project, as a user would:
#   1. `make run` (no file): the editor opens on the first example with the examples gallery over it as the start
#      page; click the gallery's Close button.
#   2. File ▸ New (Ctrl+N): an untitled project on the default dataset (circle: 2 features, 2 classes).
#   3. Zoom the canvas out with two notches of the mouse wheel. For each of Input, Dense, ReLU, Dense,
#      SoftmaxCrossEntropy and Target: click the palette's filter box, type the name, drag its row onto the canvas
#      (mouse down, moves, mouse up).
#   4. Drag wires from output to input ports: Input → Dense → ReLU → Dense → SoftmaxCrossEntropy's pred, Target →
#      its target (the editor adds Accuracy beside a classification loss).
#   5. Click the Inspector's tab and the last Dense's header, double-click its units field, type 2, Enter.
#   6. Run (F5) until the run has finished and the project points at its weights.
#   7. Save (Ctrl+S): the project has no file, so the Save dialog asks; type <clone>/mouse_net.gproj, click Save.
#   8. Quit (Ctrl+Q); `make run FILE=mouse_net.gproj`: the same graph opens with its weights (a click on the Runs
#      tab shows the run for the picture); quit.
#   9. Outside the editor: the project's weights entry, its SHA-256, that it points into the run just trained,
#      `graphedit check` and a safetensors export.
# MODE=example instead opens projects/keras_cnn.gproj (`make run FILE=...`), trains it EPOCHS (default 2) epochs,
# saves it over itself with Ctrl+S, and checks the same.
#
# Where to press comes from the editor itself: started with GRAPHEDIT_SCREEN_MAP=FILE it writes the screen positions
# of the canvas, the palette's rows, the inspector's fields, the dock tabs, a modal dialog's buttons and every node's
# ports to FILE whenever they change (graphedit/ui/screen_map.py); q below reads it with python3.
#
# It clones what is committed on the current branch (uncommitted changes are not in the clone). The first
# `make run` installs .venv in the clone (minutes). REUSE_CLONE=DIR runs again in a clone kept by an earlier run
# (KEEP=1), its .venv installed, projects and mouse_net.* reset.
set -euo pipefail
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
out=$(realpath -m "${1:-$repo/out/real_window}")
mode=${MODE:-mouse}
epochs=${EPOCHS:-2}
install_timeout=${INSTALL_TIMEOUT:-1800}
window_timeout=${WINDOW_TIMEOUT:-300}
train_timeout=${TRAIN_TIMEOUT:-900}
case "$mode" in
  mouse) project=mouse_net.gproj saved_shot=07-saved reopened_shot=08-reopened ;;
  example) project=projects/keras_cnn.gproj saved_shot=04-saved reopened_shot=05-reopened ;;
  *) echo "real_window_check: MODE is mouse (the default) or example, not '$mode'" >&2 && exit 2 ;;
esac

missing=()
for tool in Xvfb:xvfb xdotool:xdotool import:imagemagick git:git make:make python3:python3; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "real_window_check: missing tools; add them with:" >&2
  echo "sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

mkdir -p "$out"
rm -f "$out"/*.png
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
map="$work/screen_map.json"
export GRAPHEDIT_SCREEN_MAP="$map"
say "Xvfb on $DISPLAY"

if [ -n "${REUSE_CLONE:-}" ]; then
  cd "$REUSE_CLONE"
  git checkout --quiet -- projects && git clean -fdxq projects
  rm -rf mouse_net.gproj mouse_net.runs
else
  git clone --quiet "$repo" "$work/graphedit"
  cd "$work/graphedit"
fi
clone=$(pwd)
say "at $(git log -1 --format='%h %s' | cut -c1-80)"

# ------------------------------------------------------------------ the editor's screen map, and the mouse
q() { # q EXPR: a Python expression over the screen map `m`, printed (True/False as 1/0)
  python3 - "$map" "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
def centre(r): return f"{r[0] + r[2] // 2} {r[1] + r[3] // 2}"
def port(node, key): return "{} {}".format(*m["nodes"][node]["ports"][key])
def header(node): r = m["nodes"][node]["rect"]; return f"{r[0] + r[2] // 2} {r[1] + 8}"
def canvas_at(fx, fy): c = m["canvas"]; return f"{c[0] + int(c[2] * fx)} {c[1] + int(c[3] * fy)}"
v = eval(sys.argv[2])
print(int(v) if isinstance(v, bool) else v)
PY
}
wait_for() { # wait_for EXPR SECONDS WHAT: until EXPR over the screen map is true
  local deadline=$((SECONDS + $2))
  until [ "$(q "$1" 2>/dev/null)" = 1 ]; do
    [ $SECONDS -lt $deadline ] || fail "$3 (waited $2s for: $1)"
    sleep 0.2
  done
}
click() { # click X Y [REPEAT]
  [ $# -ge 2 ] || fail "click: no position"
  xdotool mousemove --sync "$1" "$2" click --repeat "${3:-1}" --delay 120 1
}
drag() { # drag X1 Y1 X2 Y2: press, move there in steps (a drag starts after a few pixels), release
  [ $# -eq 4 ] || fail "drag: no positions ($*)"
  xdotool mousemove --sync "$1" "$2"
  sleep 0.2
  xdotool mousedown 1
  sleep 0.2
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    xdotool mousemove $(($1 + ($3 - $1) * i / 10)) $(($2 + ($4 - $2) * i / 10))
    sleep 0.05
  done
  sleep 0.3
  xdotool mouseup 1
}
added=
add_node() { # add_node TYPE FX FY: filter the palette for TYPE, drag its row onto the canvas at fractions FX, FY
  local before
  before=$(q 'sorted(m["nodes"])')
  click $(q 'centre(m["palette"]["filter"])')
  xdotool key --clearmodifiers ctrl+a
  xdotool type --delay 30 "$1"
  wait_for "'$1' in m['palette']['items']" 10 "the palette shows no $1 row after typing its name"
  drag $(q "centre(m['palette']['items']['$1'])") $(q "canvas_at($2, $3)")
  wait_for "len(m['nodes']) == len($before) + 1" 10 "dragging $1 onto the canvas added no node"
  added=$(q "[n for n in m['nodes'] if n not in $before][0]")
  say "dragged $1 from the palette: $added"
}
wire() { # wire SRC OUT DST IN: drag from an output port to an input port
  drag $(q "port('$1', 'out:$2')") $(q "port('$3', 'in:$4')")
  wait_for "['$1', '$2', '$3', '$4'] in m['edges']" 10 "dragging $1.$2 onto $3.$4 made no wire"
  say "wired $1.$2 → $3.$4"
}

# ------------------------------------------------------------------ starting and quitting the editor
editor_pid= wid=
start_editor() { # $1: log name, $2: a word of the window's title, $3: the project to open (none: as a new user)
  rm -f "$map"
  make run ${3:+FILE="$3"} >"$out/$1.log" 2>&1 &
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
  until wid=$(xdotool search --onlyvisible --name "$2" 2>/dev/null | head -1) && [ -n "$wid" ] && [ -s "$map" ]; do
    kill -0 "$editor_pid" 2>/dev/null || { tail -5 "$out/$1.log" >&2; fail "make run ended before a window showed"; }
    [ $SECONDS -lt $deadline ] || fail "no editor window ${window_timeout}s after the install (see $out/$1.log)"
    sleep 1
  done
  focus
}
# There is no window manager here: a window that already has X's focus gets no FocusIn when focused again, and Qt
# takes a window as active only on one (after a modal page closed over it, Ctrl+N went nowhere). Through the root
# window, the editor's window always gets one.
focus() {
  xdotool windowfocus --sync "$(xdotool search --maxdepth 0 --name '' 2>/dev/null | head -1)" 2>/dev/null || true
  xdotool windowfocus --sync "$wid" 2>/dev/null || true
}
title() { xdotool getwindowname "$1" 2>/dev/null || true; }
quit_editor() { # $1: window id
  xdotool windowfocus --sync "$1" 2>/dev/null || true
  xdotool key --clearmodifiers ctrl+q
  local deadline=$((SECONDS + 60))
  while kill -0 "$editor_pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "the editor did not quit on Ctrl+Q (a question open?)"
    sleep 0.5
  done
}
wait_trained() { # $1: where the run records appear; sets run_dir once the editor took the run's weights
  local deadline=$((SECONDS + train_timeout)) summary=
  wait_for "m['window']['training'] != 'idle' or m['window']['weights'] is not None" 60 "F5 started no run"
  sleep 2
  shot "$2"
  until summary=$(ls -t $1/summary.json 2>/dev/null | head -1) && [ -n "$summary" ]; do
    [ $SECONDS -lt $deadline ] || fail "no finished run after ${train_timeout}s"
    sleep 1
  done
  say "run finished: $summary: $(tr -d '\n ' <"$summary" | cut -c1-120)"
  run_dir=$(dirname "$summary")
  wait_for "m['window']['training'] == 'idle' and '$(basename "$run_dir")' in str(m['window']['weights'])" 60 \
    "the project did not take the weights of run $(basename "$run_dir")"
}
weights_entry() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("weights") or "")' "$project"; }

if [ "$mode" = example ]; then
  python3 - "$project" "$epochs" <<'EOF'
import json, sys
path, epochs = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    data = json.load(f)
data["training"]["epochs"] = epochs
with open(path, "w") as f:
    json.dump(data, f, indent=1)
EOF
  say "make run FILE=$project (installs .venv on first use)"
  start_editor make_run_1 keras_cnn "$project"
  say "window $wid: $(title "$wid")"
  shot 01-opened
  say "Run (F5), $epochs epochs"
  xdotool key --clearmodifiers F5
  wait_trained "projects/keras_cnn*.runs/*" 02-training
  shot 03-trained
  say "Save (Ctrl+S)"
  focus
  xdotool key --clearmodifiers ctrl+s
else
  say "make run (installs .venv on first use)"
  start_editor make_run_1 keras_cnn
  say "window $wid: $(title "$wid")"
  wait_for "(m['window']['modal'] or {}).get('title', '').startswith('Examples')" 60 "no examples gallery on a first start"
  deadline=$((SECONDS + 30))
  until xdotool search --onlyvisible --name '^Examples' >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "the examples gallery never showed on the X server"
    sleep 0.5
  done
  sleep 2 # let it paint before the picture
  shot 01-start-page
  click $(q 'centre(m["window"]["modal"]["buttons"]["Close"])')
  wait_for 'm["window"]["modal"] is None' 10 "the gallery's Close button left it open"
  say "closed the start page by its Close button"
  focus
  xdotool key --clearmodifiers ctrl+n
  wait_for "m['window']['title'].startswith('Untitled') and not m['nodes']" 20 "Ctrl+N gave no empty, untitled project"
  say "File ▸ New (Ctrl+N): $(q 'm["window"]["title"]')"
  shot 02-new-project

  # two notches of the mouse wheel zoom out so that the chain fits in one row; the loss below its end, the Target
  # left of the loss, room below the loss for the Accuracy the editor adds
  zoom=$(q 'm["zoom"]')
  xdotool mousemove --sync $(q 'centre(m["canvas"])') click 5 sleep 0.3 click 5
  wait_for "m['zoom'] < $zoom * 0.8" 10 "the mouse wheel did not zoom the canvas out"
  say "zoomed out with the mouse wheel: $(q 'm["zoom"]')"
  add_node Input 0.1 0.18
  x=$added
  add_node Dense 0.34 0.18
  hidden=$added
  add_node ReLU 0.58 0.18
  relu=$added
  add_node Dense 0.82 0.18
  scores=$added
  add_node SoftmaxCrossEntropy 0.82 0.4
  loss=$added
  add_node Target 0.58 0.56
  target=$added
  wire "$x" y "$hidden" x
  wire "$hidden" y "$relu" x
  wire "$relu" y "$scores" x
  wire "$scores" y "$loss" pred
  wire "$target" y "$loss" target
  wait_for "all(n['error'] is None for n in m['nodes'].values())" 10 "the graph built by mouse has errors"

  if [ "$(q "'Inspector' in m['tabs']")" = 1 ]; then click $(q 'centre(m["tabs"]["Inspector"])'); fi
  click $(q "header('$scores')")
  wait_for "m['inspector']['node'] == '$scores' and 'units' in m['inspector']['fields']" 10 \
    "clicking $scores showed no units field in the Inspector"
  click $(q 'centre(m["inspector"]["fields"]["units"])') 2 # a double-click selects the number
  xdotool type "2"
  xdotool key Return
  wait_for "m['nodes']['$scores']['params']['units'] == 2" 10 "typing 2 into the units field did not set it"
  wait_for "all(n['error'] is None for n in m['nodes'].values())" 10 "the graph has errors after units = 2"
  say "set $scores's units to 2 in the Inspector"
  say "built by mouse: $(q 'sorted(m["nodes"])'), $(q 'len(m["edges"])') wires, no errors"
  shot 03-built

  say "Run (F5)"
  focus
  xdotool key --clearmodifiers F5
  wait_trained "$XDG_DATA_HOME/graphedit/unsaved-runs/*/untitled.runs/*" 04-training
  shot 05-trained

  say "Save (Ctrl+S): the Save dialog, $clone/$project typed"
  focus
  xdotool key --clearmodifiers ctrl+s
  wait_for "(m['window']['modal'] or {}).get('title') == 'Save project as'" 20 "Ctrl+S opened no Save dialog"
  sleep 0.5
  xdotool type --delay 20 "$clone/$project"
  shot 06-save-dialog
  click $(q 'centre(m["window"]["modal"]["buttons"]["Save"])')
  wait_for "m['window']['modal'] is None and m['window']['title'].startswith('mouse_net')" 20 \
    "the Save dialog did not save as $project"
fi
deadline=$((SECONDS + 30))
until [ -n "$(weights_entry 2>/dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || fail "after saving, $project has no weights entry"
  sleep 0.5
done
shot $saved_shot
say "title after save: $(title "$wid")"
nodes=$(q 'sorted(m["nodes"])')
quit_editor "$wid"
say "quit"

say "make run FILE=$project again"
start_editor make_run_2 "$(basename "$project" .gproj)" "$project"
wait_for "sorted(m['nodes']) == $nodes and m['window']['weights'] is not None" 60 "the reopened project differs"
if [ "$(q "'Runs' in m['tabs']")" = 1 ]; then click $(q 'centre(m["tabs"]["Runs"])'); fi # the run, for the picture
sleep 2 # let it paint before the picture; nothing is checked from it
shot $reopened_shot
say "window $wid: $(title "$wid"): the same $(q 'len(m["nodes"])') nodes, weights $(q 'm["window"]["weights"]')"
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
say "ok ($mode): trained in the window, saved, reopened, and the weights are there (screenshots in $out)"

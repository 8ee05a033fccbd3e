#!/usr/bin/env bash
# The GPU machine's checks in one call (a lent machine is bare, cannot reach PyPI and is held for minutes only):
#   1. bench/cuda_paths.py: parity, training, failures, export and throughput on CUDA (compiled run included);
#   2. bench/train_throughput.py --device cuda: GraphEdit against the hand-written loop, on the GPU;
#   3. the same on CPU, pinned to two of its quiet cores: the in-loop ratios of this 2-core host without its noise,
#      with the thread policy's count.
# Each step has its own time limit and writes $OUT/<step>.txt; the summary lines are printed at the end.
# GraphEdit travels as a wheel built here (the machine has torch, numpy, networkx, safetensors, onnx, Pillow):
#   .venv/bin/pip wheel --no-deps -w .whl .    (.whl/ listed in .git/info/exclude; carry [".whl"])
#   bash bench/on_device.sh
set -u
OUT=${OUT:-/tmp/graphedit-device}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    echo "cpus: $(nproc)  load: $(cat /proc/loadavg)"
    $PY -c "import torch, graphedit; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), graphedit.__file__)"
} 2>&1 | tee "$OUT/env.txt"

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit} s)"
    local start=$SECONDS
    timeout -k 5 "$limit" "$@" >"$OUT/$name.txt" 2>&1
    echo "rc=$? after $((SECONDS - start)) s" | tee -a "$OUT/$name.txt"
}
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0,1)

step cuda_paths "${LIMIT_PATHS:-270}" $PY bench/cuda_paths.py
step throughput_cuda "${LIMIT_CUDA:-100}" $PY bench/train_throughput.py --device cuda --reps 5 --no-command
step throughput_cpu2 "${LIMIT_CPU:-120}" "${PIN[@]}" $PY bench/train_throughput.py --reps 5 --no-command

grep -h -E "^(device|torch|failed|rc=|[a-z0-9_]+: [0-9]+ training)|_(ratio|ratio_best|ratio_cpu|vs_plain|compile_seconds|probe_share|samples_per_s|seconds|val_accuracy)[:]" \
    "$OUT"/cuda_paths.txt "$OUT"/throughput_*.txt

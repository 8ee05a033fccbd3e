"""A long fuzz campaign over mutated example projects (the suite's tests/test_fuzz_projects.py runs 2,000).

Each mutant (operators: see tests/project_mutations.py) is loaded and checked on
meta tensors as ``graphedit check`` does, and saved again in memory; its outcome
is ``ok``, ``error`` (the project's own error type), ``crash`` (anything else)
or ``hang`` (longer than --timeout seconds). Prints ``name: value`` lines:
``mutants``, ``ok``, ``errors``, ``crashes``, ``hangs``, ``files_modified``
(example files changed by the campaign: must be 0), the time per mutant, then
one line per crash or hang signature with a count and a reproducing mutant
(seed index, source project, operators). ``--save DIR`` keeps the crashing
mutants' files.

    python bench/fuzz_projects.py --mutants 100000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from project_mutations import PROJECT_FILES, classify, load_sources, mutant, warm_up  # noqa: E402


def digest() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in PROJECT_FILES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=100_000, help="how many mutants (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed: mutant i uses Random(seed * 10**9 + i)")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds before a case counts as a hang")
    parser.add_argument("--save", type=Path, help="folder to keep crashing and hanging mutants in")
    parser.add_argument("--progress", type=int, default=10_000, help="print a progress line every N mutants")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    before = digest()
    sources = load_sources()
    folder = Path(tempfile.mkdtemp(prefix="graphedit-fuzz-"))
    warm_up(folder)
    outcomes: Counter[str] = Counter()
    signatures: Counter[str] = Counter()
    examples: dict[str, str] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(args.mutants):
        name, operators, raw = mutant(random.Random(args.seed * 10**9 + i), sources)
        kind, signature = classify(raw, folder / "mutant.gproj", args.timeout)
        outcomes[kind] += 1
        if kind in ("crash", "hang"):
            signatures[signature] += 1
            examples.setdefault(signature, f"mutant {i} of {name} by {'+'.join(operators)}")
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{kind}_{i}_{name}").write_bytes(raw)
        if args.progress and (i + 1) % args.progress == 0:
            print(f"# {i + 1} mutants, {outcomes['crash']} crashes, {outcomes['hang']} hangs", flush=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    modified = sum(1 for name, data in digest().items() if before.get(name) != data) + len(set(before) - set(digest()))
    total = sum(outcomes.values())
    print(f"mutants: {total}")
    print(f"ok: {outcomes['ok']}")
    print(f"errors: {outcomes['error']}")
    print(f"crashes: {outcomes['crash']}")
    print(f"hangs: {outcomes['hang']}")
    print(f"files_modified: {modified}")
    print(f"ms_per_mutant: {1000 * wall / max(total, 1):.1f}")
    print(f"cpu_ms_per_mutant: {1000 * cpu / max(total, 1):.1f}")
    for signature, count in signatures.most_common():
        print(f"signature: {count} x {signature} [{examples[signature]}]")
    return 1 if outcomes["crash"] or outcomes["hang"] or modified else 0


if __name__ == "__main__":
    sys.exit(main())

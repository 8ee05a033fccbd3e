"""Fuzz: 2,000 mutated example projects, each loaded and checked on meta tensors as `graphedit check` does.

The mutation operators are listed in ``project_mutations.py``. Hypothesis draws
the example project, the operators (one to three, in order) and a seed for the
details each operator picks (which key, which value); derandomized, so every run
checks the same mutants, and a failure shrinks to fewer operators on a smaller
project. (Drawing every detail through ``st.randoms`` was 4x slower.) Every
outcome must be success or the project's own error type (a GraphEditError);
each case has a 2-second hang guard; the example files are never modified.
The long campaign is ``bench/fuzz_projects.py``.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from project_mutations import OPERATORS, PROJECT_FILES, classify, load_sources, mutant, warm_up

MUTANTS = 2000


def projects_digest() -> str:
    digest = hashlib.sha256()
    for path in PROJECT_FILES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.slow
def test_mutated_projects_load_or_fail_with_a_clear_error(tmp_path):
    torch.set_num_threads(1)
    before = projects_digest()
    sources = load_sources()
    warm_up(tmp_path)
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=MUTANTS,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.sampled_from(sorted(sources)),
        st.lists(st.sampled_from(OPERATORS), min_size=1, max_size=3),
        st.integers(0, 2**32 - 1),
    )
    def one_mutant(name, operators, seed):
        name, operators, raw = mutant(random.Random(seed), sources, name, operators)
        kind, signature = classify(raw, tmp_path / "mutant.gproj", seconds=2.0)
        outcomes[kind] += 1
        assert kind in ("ok", "error"), f"{kind}: {signature} (mutant of {name} by {', '.join(operators)})"

    one_mutant()
    assert sum(outcomes.values()) >= MUTANTS
    assert outcomes["ok"] > 0 and outcomes["error"] > 0  # the mutants reach both ends
    assert projects_digest() == before


def test_a_merge_of_a_trillion_inputs_is_refused_not_built(tmp_path):
    """The long campaign's one hang (seed 23, mutant 1678): ``inputs`` of an Add set to 10¹², a port each."""
    import json

    from project_mutations import ROOT

    project = json.loads((ROOT / "projects" / "residual_mlp.gproj").read_text())
    adds = [n for n in project["graph"]["nodes"] if n["type"] == "Add"]
    assert adds
    adds[0]["params"]["inputs"] = 10**12
    kind, signature = classify(json.dumps(project).encode(), tmp_path / "mutant.gproj", seconds=2.0)
    assert kind == "error", signature  # it was a hang: the ports were made before any check

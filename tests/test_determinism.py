"""Recorded trajectories: seed -> the first 50 architectures each strategy proposes on
NAS-Bench-201 (CIFAR-10 validation accuracy as the objective), so that any change of
behaviour is a visible decision; and the same trajectory with 1 or 2 torch threads.

Re-record after an intended change (and commit the JSON files with it)::

    NASOPT_RECORD=1 NASOPT_DATA=/path/to/data pytest tests/test_determinism.py
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nasopt
from nasopt.testing import registered_strategies

HERE = Path(__file__).parent
TRAJ = HERE / "data" / "trajectories"
N_ARCHS, BATCH, SEED = 50, 5, 0
RECORD = os.environ.get("NASOPT_RECORD") == "1"

#: strategy -> (module that registers it, options). Options keep the test fast; the torch
#: predictors still train (thread-count sensitivity is what the second test checks). Every
#: registered strategy (the conformance suite's list) must be here, with a recording.
STRATEGIES = {
    "random": ("nasopt.strategies.random_search", {}),
    "rea": ("nasopt.strategies.evolution", {}),
    "weaknas": ("nasopt.strategies.weaknas", {}),
    "renas": ("nasopt.strategies.renas", {
        "surrogate": "mlp", "encoding": "onehot", "init": 20, "top_k": 10,
        "surrogate_options": {"hidden_layer_sizes": [64], "epochs": 50}}),
    "renas-iter": ("nasopt.strategies.renas", {}),
}
TORCH_STRATEGIES = ("weaknas", "renas")
#: More recordings of a strategy, with other options: recording -> (strategy, options).
#: ``weaknas-noprior``: WeakNAS without a prior, the default before ``prior="auto"`` (its
#: recording is the ``weaknas.json`` of that time: a run without a prior is unchanged).
VARIANTS = {"weaknas-noprior": ("weaknas", {"prior": None})}


def trajectory(name: str, data: str | None = None) -> dict:
    """Run ``name`` (a strategy, or a recording of :data:`VARIANTS`) for N_ARCHS proposals
    (ask(BATCH), tell each) and describe the run."""
    if name in VARIANTS:
        name, options = VARIANTS[name]
        module = STRATEGIES[name][0]
    else:
        module, options = STRATEGIES[name]
    importlib.import_module(module)
    from nasopt.benchmarks import NB201

    bench = NB201("cifar10", path=data)
    opt = nasopt.create(name, bench.space, seed=SEED, **options)
    archs: list[str] = []
    while len(archs) < N_ARCHS:
        for t in opt.ask(BATCH):
            archs.append(t.arch)
            opt.tell(t, bench(t.arch))
    return {
        "strategy": name, "seed": SEED, "options": options, "batch": BATCH,
        "objective": "NB201 cifar10 validation accuracy (mean over seeds)",
        "indices": [int(i) for i in bench.space.indices(archs)],
        "archs": archs,
        "best": {"arch": opt.best.arch, "value": opt.best.value},
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", [f.name for f in registered_strategies()] + list(VARIANTS))
def test_recorded_trajectory(name, nb201_data):
    assert name in STRATEGIES or name in VARIANTS, f"strategy {name!r} has no options here: add it to STRATEGIES and record it"
    got = trajectory(name, str(nb201_data))
    path = TRAJ / f"{name}.json"
    if RECORD:
        TRAJ.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1) + "\n")
        pytest.skip(f"recorded {path}")
    assert path.exists(), f"no recorded trajectory {path}: run with NASOPT_RECORD=1 to record it"
    want = json.loads(path.read_text())
    assert want["options"] == got["options"] and want["seed"] == got["seed"]
    first_diff = next((i for i, (a, b) in enumerate(zip(want["indices"], got["indices"])) if a != b), None)
    assert got["indices"] == want["indices"], (
        f"{name}: proposal #{first_diff} changed; if intended, re-record with NASOPT_RECORD=1")
    assert got["archs"] == want["archs"] and got["best"] == want["best"]


def _start(threads: int, names: list[str], data: str) -> subprocess.Popen:
    """A fresh interpreter computing the trajectories of ``names`` with ``threads`` torch
    threads (set before anything runs)."""
    code = (
        "import json, sys, torch\n"
        f"torch.set_num_threads({threads})\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from test_determinism import trajectory\n"
        f"print(json.dumps({{n: trajectory(n, {data!r})['indices'] for n in {names!r}}}))\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(HERE.parent))


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_same_trajectory_with_1_or_2_torch_threads(nb201_data):
    names = []
    for n in TORCH_STRATEGIES:
        try:
            importlib.import_module(STRATEGIES[n][0])
            names.append(n)
        except ImportError:
            pass
    if not names:
        pytest.skip("no torch-based strategy in this build")
    procs = [_start(k, names, str(nb201_data)) for k in (1, 2)]  # run side by side
    one, two = (_result(p) for p in procs)
    assert one == two
    for n in names:  # and both equal the recorded trajectory
        path = TRAJ / f"{n}.json"
        if path.exists() and not RECORD:
            assert one[n] == json.loads(path.read_text())["indices"]

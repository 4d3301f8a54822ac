"""The ask/tell contract of the Optimizer base, exercised through the baseline strategies."""

from __future__ import annotations

import json
import os
import signal
import stat
import time

import numpy as np
import pytest

import nasopt
from nasopt import SpaceExhaustedError, TrialError, TrialState
from nasopt.core.errors import ConfigurationError, InvalidArchitectureError
from nasopt.spaces import NB201Space, ProductSpace

SPACE = NB201Space()


def score(arch: str) -> float:
    """A cheap deterministic objective: number of 3x3 convolutions plus a tie-breaker."""
    return arch.count("nor_conv_3x3") + 0.01 * arch.count("skip_connect")


@pytest.mark.parametrize("name", ["random", "rea"])
def test_ask_returns_one_trial_and_ask_n_returns_a_batch(name):
    opt = nasopt.create(name, SPACE, seed=0)
    one = opt.ask()
    batch = opt.ask(5)
    assert isinstance(one, nasopt.Trial) and one.state is TrialState.PENDING
    assert [t.id for t in batch] == [1, 2, 3, 4, 5]
    assert len(opt.pending) == 6 and len({t.key for t in [one, *batch]}) == 6


def test_tell_completes_trials_and_best_tracks_the_maximum():
    opt = nasopt.RandomSearch(SPACE, seed=1)
    values = {}
    for t in opt.ask(20):
        values[t.id] = score(t.arch)
        done = opt.tell(t, values[t.id])
        assert done.state is TrialState.COMPLETE and done.value == values[t.id]
    assert opt.best.value == max(values.values())
    assert opt.best.id == min(i for i, v in values.items() if v == max(values.values()))
    assert not opt.pending and len(opt.trials) == 20


def test_minimize_picks_the_smallest_value():
    opt = nasopt.RandomSearch(SPACE, seed=1, maximize=False)
    for t in opt.ask(10):
        opt.tell(t, score(t.arch))
    assert opt.best.value == min(t.value for t in opt.trials)


@pytest.mark.parametrize("maximize", ["min", "max", 0, 1, 1.0, "False"])
def test_maximize_must_be_a_bool(maximize):
    with pytest.raises(ConfigurationError, match=r"maximize must be True or False, got"):
        nasopt.create("rea", SPACE, seed=0, maximize=maximize)


def test_direction_is_optunas_word_for_maximize(tmp_path):
    assert nasopt.create("rea", SPACE, seed=0, direction="minimize").maximize is False
    assert nasopt.create("rea", SPACE, seed=0, direction="maximize").maximize is True
    assert nasopt.create("rea", SPACE, seed=0, direction="minimize", maximize=False).maximize is False
    assert nasopt.create("rea", SPACE, seed=0).maximize is True
    opt = nasopt.RandomSearch(SPACE, seed=1, direction="minimize")
    for t in opt.ask(10):
        opt.tell(t, score(t.arch))
    assert opt.best.value == min(t.value for t in opt.trials)
    opt.save(str(tmp_path / "run.json"))  # the checkpoint stores maximize, and loads back
    assert nasopt.load(str(tmp_path / "run.json")).maximize is False
    journal = str(tmp_path / "run.jsonl")
    with nasopt.create("random", SPACE, seed=0, direction="minimize", journal=journal) as opt:
        opt.tell(opt.ask(), 1.0)
    with nasopt.create("random", SPACE, direction="minimize", journal=journal) as again:
        assert again.maximize is False and len(again.completed) == 1
    with nasopt.load(journal) as again:
        assert again.maximize is False


@pytest.mark.parametrize("kwargs, message", [
    ({"direction": "min"}, r"direction must be 'maximize' or 'minimize', got 'min'"),
    ({"direction": "minimize", "maximize": True},
     r"maximize=True contradicts direction='minimize': pass only one of them"),
])
def test_bad_or_conflicting_direction_is_refused(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        nasopt.create("random", SPACE, seed=0, **kwargs)


@pytest.mark.parametrize("name", ["random", "rea", "weaknas", "renas", "renas-iter"])
def test_unknown_option_names_the_strategy_the_option_and_the_valid_ones(name):
    with pytest.raises(ConfigurationError) as err:
        nasopt.create(name, SPACE, seed=0, batchsize=3)
    msg = str(err.value)
    assert f"strategy {name!r} has no option 'batchsize'" in msg
    valid = msg.split("valid options: ")[1].split(", ")
    assert valid == nasopt.core.optimizer.valid_options(nasopt.core.registry.strategy_class(name))
    assert {"seed", "maximize", "direction", "allow_duplicates", "journal"} <= set(valid)


def test_valid_options_come_from_the_constructor_signatures_along_the_mro():
    from nasopt.core.optimizer import valid_options

    class Wider(nasopt.RegularizedEvolution):
        def __init__(self, space, *, width: int = 3, **kw):
            super().__init__(space, **kw)
            self.width = width

    assert valid_options(Wider) == sorted(
        ["width", "population", "tournament", "seed", "maximize", "direction",
         "allow_duplicates", "journal", "objectives", "constraints"])
    with pytest.raises(ConfigurationError, match=r"no option 'populaton' \(did you mean 'population'\?\)"):
        Wider(SPACE, populaton=4)
    assert "batch" in valid_options(nasopt.WeakNAS) and "top_k" in valid_options(nasopt.ReNAS)


def test_failed_trials_are_kept_with_their_error_and_never_best():
    opt = nasopt.RandomSearch(SPACE, seed=2)
    a, b = opt.ask(2)
    opt.tell(a, failed=True, error="CUDA out of memory")
    assert opt.best is None
    opt.tell(b, 1.0)
    failed = [t for t in opt.trials if t.state is TrialState.FAILED]
    assert failed[0].error == "CUDA out of memory" and failed[0].value is None
    assert opt.best.id == b.id


def test_warm_start_tell_of_an_architecture_that_was_never_asked():
    opt = nasopt.create("rea", SPACE, seed=3)
    warm = [SPACE[i] for i in range(12)]
    for arch in warm:
        opt.tell(arch, score(arch))
    assert len(opt.completed) == 12 and not opt.pending
    proposals = [t.arch for t in opt.ask(10)]
    assert not set(proposals) & set(warm), "a warm-started architecture was proposed again"


def test_telling_an_architecture_that_is_pending_completes_its_trial():
    opt = nasopt.RandomSearch(SPACE, seed=4)
    t = opt.ask()
    done = opt.tell(t.arch, 2.0)
    assert done.id == t.id and not opt.pending


def test_telling_an_evaluated_architecture_again_needs_allow_duplicates():
    opt = nasopt.RandomSearch(SPACE, seed=5)
    t = opt.ask()
    opt.tell(t, 1.0)
    with pytest.raises(TrialError, match="already evaluated"):
        opt.tell(t.arch, 1.5)
    dup = nasopt.RandomSearch(SPACE, seed=5, allow_duplicates=True)
    t = dup.ask()
    dup.tell(t, 1.0)
    assert dup.tell(t.arch, 1.5).id != t.id


class _Scalar:
    """A tensor-like object of another library: ``item()`` and ``numel()``, no float()."""

    def __init__(self, values):
        self.values = list(values)

    def numel(self):
        return len(self.values)

    def item(self):
        if len(self.values) != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.values[0]


@pytest.mark.parametrize("value", [
    np.array(0.75), np.array([0.75]), np.array([[0.75]], dtype=np.float32), np.float32(0.75),
    _Scalar([0.75]), _Scalar([np.float64(0.75)]),
], ids=["0-d array", "1-element array", "1x1 float32 array", "numpy scalar", "tensor-like",
        "tensor-like holding a numpy scalar"])
def test_tell_accepts_a_one_element_array_or_tensor_as_a_float(value):
    opt = nasopt.RandomSearch(SPACE, seed=6)
    done = opt.tell(opt.ask(), value)
    assert type(done.value) is float and done.value == 0.75 and opt.best is done


def test_tell_accepts_the_0d_tensor_a_torch_training_loop_returns():
    torch = pytest.importorskip("torch")
    opt = nasopt.RandomSearch(SPACE, seed=6)
    loss = (torch.tensor([0.5, 1.0], requires_grad=True) ** 2).mean()  # 0-d, with a grad_fn
    assert opt.tell(opt.ask(), loss).value == 0.625
    with pytest.raises(TrialError, match=r"an array of 2 elements"):
        opt.tell(opt.ask(), torch.tensor([0.5, 1.0]))
    with pytest.raises(TrialError, match=r"value must be finite, got nan"):
        opt.tell(opt.pending[0], torch.tensor(float("nan")))
    with pytest.raises(TrialError, match=r"value must be a finite real number"):
        opt.tell(opt.pending[0], torch.tensor(True))


def test_a_failed_architecture_may_be_told_again_once_as_a_retry(tmp_path):
    opt = nasopt.RandomSearch(SPACE, seed=5, journal=tmp_path / "run.jsonl")
    t = opt.ask()
    opt.tell(t, failed=True, error="node lost")
    again = opt.tell(t.arch, failed=True, error="node lost again")  # a retry may fail too
    retry = opt.tell(t.arch, 7.0)  # and then succeed: the strategy sees the result
    assert [again.id, retry.id] == [1, 2] and opt.best.id == 2
    assert [x.state for x in opt.trials] == [TrialState.FAILED, TrialState.FAILED, TrialState.COMPLETE]
    with pytest.raises(TrialError, match="already evaluated as trial #2"):
        opt.tell(t.arch, 8.0)
    opt.save(tmp_path / "run.ckpt")
    opt.close()
    for reloaded in (nasopt.load(tmp_path / "run.ckpt"), nasopt.load(tmp_path / "run.jsonl")):
        with pytest.raises(TrialError, match="already evaluated as trial #2"):
            reloaded.tell(t.arch, 8.0)
        assert reloaded.best.id == 2
        reloaded.close()


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), "0.9", True, None, [1.0], 10**400, np.array([0.5, 0.6]),
    np.array(True), np.array("0.9"), np.array(np.inf), np.array(1 + 2j), _Scalar([0.5, 0.6]),
    _Scalar([True]), _Scalar(["0.9"]), np.array([], dtype=float),
])
def test_bad_values_are_refused_and_change_nothing(value):
    opt = nasopt.RandomSearch(SPACE, seed=6)
    t = opt.ask()
    with pytest.raises(TrialError):
        opt.tell(t, value)
    assert opt.pending == [t] and opt.best is None


def test_double_tell_unknown_and_foreign_trials_are_refused():
    opt = nasopt.RandomSearch(SPACE, seed=7)
    other = nasopt.RandomSearch(SPACE, seed=7)
    t = opt.ask()
    opt.tell(t, 1.0)
    with pytest.raises(TrialError, match="already told"):
        opt.tell(t, 2.0)
    with pytest.raises(TrialError, match="another run"):
        opt.tell(other.ask(), 1.0)
    assert opt.best.value == 1.0 and len(opt.trials) == 1


def test_architecture_of_another_space_is_refused_with_the_space_named():
    opt = nasopt.RandomSearch(SPACE, seed=8)
    with pytest.raises(InvalidArchitectureError, match="NB201Space"):
        opt.tell({"layer0": "identity"}, 1.0)
    with pytest.raises(InvalidArchitectureError, match="unknown operation"):
        opt.tell("|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|", 1.0)
    assert not opt.trials


def test_same_seed_same_proposals_different_seed_different_proposals():
    def run(seed):
        opt = nasopt.create("rea", SPACE, seed=seed)
        seq = []
        for _ in range(40):
            t = opt.ask()
            seq.append(t.arch)
            opt.tell(t, score(t.arch))
        return seq

    assert run(11) == run(11)
    assert run(11) != run(12)


@pytest.mark.parametrize("name", ["random", "rea"])
def test_save_and_load_mid_run_continues_identically(tmp_path, name):
    opt = nasopt.create(name, SPACE, seed=9)
    for _ in range(25):
        t = opt.ask()
        opt.tell(t, score(t.arch))
    pending = opt.ask(3)
    path = tmp_path / "run.json"
    opt.save(path)
    clone = nasopt.load(path)
    assert [t.id for t in clone.pending] == [t.id for t in pending]
    for t in pending:  # tell the pending ones on both, with the trials as loaded
        opt.tell(t, score(t.arch))
        clone.tell(next(p for p in clone.pending if p.id == t.id), score(t.arch))
    for _ in range(30):
        a, b = opt.ask(), clone.ask()
        assert a.arch == b.arch and a.id == b.id
        opt.tell(a, score(a.arch))
        clone.tell(b, score(b.arch))
    assert opt.best == clone.best


def test_checkpoint_is_plain_json_with_a_format_marker(tmp_path):
    opt = nasopt.RandomSearch(SPACE, seed=10)
    opt.tell(opt.ask(), 1.0)
    opt.save(tmp_path / "c.json")
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["format"] == "nasopt-checkpoint" and data["strategy"] == "random"
    assert data["trials"][0]["arch"].startswith("|")
    opt.save(tmp_path / "c.json.gz")
    assert nasopt.load(tmp_path / "c.json.gz").best.value == 1.0


@pytest.fixture
def umask():
    """Set the process umask for one test, then put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("name", ["run.json", "run.json.gz"])
def test_a_new_checkpoint_follows_the_umask_and_an_old_one_keeps_its_mode(tmp_path, umask, name):
    opt = nasopt.RandomSearch(SPACE, seed=10)
    opt.tell(opt.ask(), 1.0)
    path = tmp_path / name
    for mask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        umask(mask)
        path.unlink(missing_ok=True)
        opt.save(path)
        assert stat.S_IMODE(path.stat().st_mode) == mode, oct(mask)
    path.chmod(0o640)  # like open(path, "w"), saving over a file keeps its permissions
    umask(0o022)
    opt.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert nasopt.load(path).best.value == 1.0


def _saving_child(opt, path, block):
    """Fork a process that saves ``opt`` to ``path`` but never finishes (``block`` seconds
    inside the final rename); return its pid once its temporary file exists."""
    before = set(os.listdir(path.parent))
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.replace = lambda *a, **k: time.sleep(block)
            opt.save(path)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 30
    while set(os.listdir(path.parent)) == before:
        assert time.monotonic() < deadline, "the child never created its temporary file"
        time.sleep(0.01)
    return pid


def test_temp_files_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    opt = nasopt.RandomSearch(SPACE, seed=10)
    opt.tell(opt.ask(), 1.0)
    path = tmp_path / "run.json"
    other = tmp_path / "other.json"
    opt.save(path)
    for _ in range(3):  # three saves SIGKILLed after writing their temporary file
        pid = _saving_child(opt, path, block=60)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    killed_other = _saving_child(opt, other, block=60)  # another checkpoint's: not ours
    os.kill(killed_other, signal.SIGKILL)
    os.waitpid(killed_other, 0)
    running = _saving_child(opt, path, block=60)  # a save still in progress: kept
    try:
        left = set(os.listdir(tmp_path)) - {"run.json"}
        assert len(left) == 5
        opt.tell(opt.ask(), 2.0)
        opt.save(path)
        remaining = set(os.listdir(tmp_path)) - {"run.json"}
        assert len(remaining) == 2 and all(str(running) in n or "other" in n for n in remaining)
        assert nasopt.load(path).best.value == 2.0
    finally:
        os.kill(running, signal.SIGKILL)
        os.waitpid(running, 0)


def test_random_search_visits_every_member_once_then_says_the_space_is_exhausted():
    space = ProductSpace({"a": [1, 2, 3], "b": ["x", "y"], "c": [True, False]})
    opt = nasopt.RandomSearch(space, seed=0)
    seen = [space.key(t.arch) for t in opt.ask(len(space))]
    assert sorted(seen) == sorted(space.key_of_index(i) for i in range(len(space)))
    with pytest.raises(SpaceExhaustedError, match="0 unseen"):
        opt.ask()


def test_asking_more_than_what_is_left_raises_and_changes_nothing():
    space = ProductSpace({"a": [1, 2, 3]})
    opt = nasopt.RandomSearch(space, seed=0)
    opt.ask(2)
    with pytest.raises(SpaceExhaustedError, match="only 1 unseen"):
        opt.ask(2)
    assert len(opt.trials) == 2
    assert opt.ask().arch not in [t.arch for t in opt.trials[:2]]


def test_random_search_on_a_non_enumerable_space_gives_up_with_a_clear_error():
    space = ProductSpace({"a": [1, 2], "b": [1, 2]}, max_enumerate=0)
    opt = nasopt.RandomSearch(space, seed=0)
    opt.ask(4)
    with pytest.raises(SpaceExhaustedError, match="exhausted"):
        opt.ask()


def test_create_knows_the_baselines_and_names_the_alternatives():
    assert {"random", "rea"} <= set(nasopt.available_strategies())
    with pytest.raises(ConfigurationError, match="available"):
        nasopt.create("nope", SPACE)


@pytest.mark.parametrize("kwargs", [{"population": 1}, {"tournament": 0}, {"population": 5, "tournament": 6}])
def test_rea_options_out_of_range_are_refused(kwargs):
    with pytest.raises(ConfigurationError):
        nasopt.RegularizedEvolution(SPACE, **kwargs)


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_ask_needs_a_positive_integer(n):
    opt = nasopt.RandomSearch(SPACE, seed=0)
    with pytest.raises(ConfigurationError):
        opt.ask(n)
    assert not opt.trials


def test_rea_mutates_members_of_its_population_once_it_is_full():
    opt = nasopt.RegularizedEvolution(SPACE, seed=0, population=10, tournament=3)
    for _ in range(10):
        t = opt.ask()
        opt.tell(t, score(t.arch))
    population = {t.arch for t in opt.completed}
    codes = SPACE.op_codes
    child = opt.ask()
    distances = [int((codes[SPACE.index(child.arch)] != codes[SPACE.index(p)]).sum()) for p in population]
    assert min(distances) == 1, "an REA child should be one mutation away from a population member"


def test_rea_ask_reads_only_its_population_not_the_whole_history(tmp_path, monkeypatch):
    """An ask of regularized evolution costs the same at 100 and at 100,000 results: it reads
    the ``population`` most recent results (the tail, kept incrementally), never a copy of the
    whole history; the tail equals the one recomputed from the history, also after reloading
    a checkpoint and a journal."""
    from nasopt.core.optimizer import Optimizer

    space = ProductSpace({f"p{i}": list(range(4)) for i in range(8)})
    opt = nasopt.RegularizedEvolution(space, seed=1, population=6, tournament=2, journal=tmp_path / "j.jsonl")
    for _ in range(40):
        for t in opt.ask(3):
            opt.tell(t, float(sum(t.arch.values())) + 0.001 * t.id)
    opt.tell(opt.ask(), failed=True)
    opt.save(tmp_path / "c.ckpt")
    reads: list[int] = []
    recent = Optimizer._recent_history

    def spy(self, k):
        archs, scores = recent(self, k)
        reads.append(len(archs))
        return archs, scores

    def whole(self):
        raise AssertionError("REA's ask copied the whole history")

    def check(run):
        archs, scores = run._history()
        tail_archs, tail_scores = run._recent_history(6)
        assert tail_archs == archs[-6:] and tail_scores.tolist() == scores[-6:].tolist()
        with monkeypatch.context() as m:
            m.setattr(Optimizer, "_history", whole)
            m.setattr(Optimizer, "_recent_history", spy)
            reads.clear()
            asked = [t.arch for t in run.ask(4)]
        assert reads == [6]
        run.close()
        return asked

    assert check(nasopt.load(tmp_path / "c.ckpt")) == check(opt)  # same children as the live run
    check(nasopt.load(tmp_path / "j.jsonl"))  # (it continues after the live run's asks)


@pytest.mark.parametrize("finite", [True, False])
def test_random_search_ask_never_reads_the_history(monkeypatch, finite):
    from nasopt.core.optimizer import Optimizer

    space = ProductSpace({f"p{i}": list(range(4)) for i in range(8)}, max_enumerate=10**6 if finite else 0)
    opt = nasopt.RandomSearch(space, seed=2)
    for t in opt.ask(200):
        opt.tell(t, float(sum(t.arch.values())))

    def whole(self):
        raise AssertionError("random search's ask read the whole history")

    monkeypatch.setattr(Optimizer, "_history", whole)
    monkeypatch.setattr(Optimizer, "_recent_history", whole)
    assert len(opt.ask(5)) == 5


# ---------------------------------------------------------------- configuration (get_params)
from nasopt.core.registry import register_strategy, unregister_strategy  # noqa: E402


@pytest.fixture
def toy_registered():
    """``_ToyGreedy`` registered (files name the strategy) for one test only, so the suites
    that parametrize over every registered strategy never see it."""
    register_strategy("test-core-toy")(_ToyGreedy)
    yield
    unregister_strategy("test-core-toy")


class _ToyGreedy(nasopt.RegularizedEvolution):
    """A user's strategy: REA with an extra option stored under its own name, plus a
    numpy scalar and array in its state (what the encoder accepts)."""

    def __init__(self, space, *, greed: float = 0.5, **kw):
        super().__init__(space, **kw)
        self.greed = greed
        self._draws = np.int64(0)
        self._extra = None

    def _propose(self, n):
        self._draws = np.int64(self._draws + n)
        if self._rng.random() < self.greed:
            return self._random_unseen(n)
        return super()._propose(n)

    def _get_state(self):
        return {"draws": self._draws, "last": np.arange(3, dtype=np.float32) * self._draws,
                "extra": self._extra}

    def _set_state(self, state):
        self._draws = np.int64(state["draws"])


def test_get_params_returns_every_constructor_option_as_given():
    opt = nasopt.WeakNAS(SPACE, seed=3, init=12, kappa=2, surrogate_options={"epochs": 5})
    params = opt.get_params()
    # every option but the runtime arguments (journal, prior: passed again, never stored)
    assert sorted(params) == sorted(o for o in nasopt.core.optimizer.valid_options(nasopt.WeakNAS)
                                    if o not in ("journal", "prior"))
    assert (params["init"], params["batch"], params["loss"], params["budget"]) == (12, None, None, None)
    assert params["surrogate_options"] == {"epochs": 5} and params["seed"] == 3
    assert (opt._batch, opt._loss) == (10, "hinge")  # the resolved values live elsewhere
    same = nasopt.WeakNAS(SPACE, **params)
    assert same.get_params() == params


def test_a_user_strategy_option_survives_save_load_and_journal_reopen(tmp_path, toy_registered):
    space = ProductSpace({"a": list(range(6)), "b": list(range(5))})
    opt = _ToyGreedy(space, seed=2, greed=0.25, population=3, tournament=2)
    for _ in range(4):
        for t in opt.ask(2):
            opt.tell(t, float(t.arch["a"] * t.arch["b"]))
    opt.save(str(tmp_path / "ckpt.json"))  # a numpy scalar and array in the state: accepted
    clone = nasopt.load(str(tmp_path / "ckpt.json"))
    assert type(clone) is _ToyGreedy and clone.greed == 0.25 and clone._draws == opt._draws
    assert [t.arch for t in clone.ask(3)] == [t.arch for t in opt.ask(3)]

    path = tmp_path / "run.jsonl"
    with _ToyGreedy(space, seed=2, greed=0.75, journal=path) as first:
        first.tell(first.ask(), 1.0)
    again = nasopt.load(path)
    assert again.greed == 0.75 and again._draws == 1
    again.close()
    with pytest.raises(nasopt.CheckpointError, match="greed"):
        _ToyGreedy(space, seed=2, greed=0.5, journal=path)


def test_an_option_not_stored_under_its_name_is_a_clear_error_at_construction():
    class Forgetful(nasopt.RandomSearch):
        def __init__(self, space, *, width: int = 3, **kw):
            super().__init__(space, **kw)
            self._width = width  # not self.width: get_params cannot read it

    with pytest.raises(ConfigurationError, match=r"no attribute 'width' .*self\.width"):
        Forgetful(SPACE, seed=0)


def test_a_state_the_files_cannot_store_is_a_clear_error_on_save(tmp_path, toy_registered):
    opt = _ToyGreedy(SPACE, seed=0)
    opt._extra = {1, 2}  # the state now holds something no file can store
    with pytest.raises(nasopt.CheckpointError,
                       match=r"'test-core-toy' state .*\['extra'\] holds a set"):
        opt.save(str(tmp_path / "ckpt.json"))
    assert not (tmp_path / "ckpt.json").exists()

"""Log every trial of a search from an ``optimize`` callback: to TensorBoard when it is
installed, else to a JSON-lines file (MLflow: see docs/usage.md). Each trial keeps its
start / end time and the user attributes the callback adds; the run ends as a CSV table.

    python examples/callbacks_logging.py --budget 30 --logdir runs/nasopt
    tensorboard --logdir runs/nasopt                   # when --logger tensorboard
    python examples/callbacks_logging.py --budget 4    # small run (env: NASOPT_EXAMPLE_BUDGET)

The search space and the objective (a small scikit-learn MLP trained on the bundled 8x8
digits images, no download) are those of ``custom_space.py``, next to this file.
"""

import argparse
import importlib.util
import json
import os
from pathlib import Path

from custom_space import SPACE, make_objective, n_params  # examples/custom_space.py
from threadpoolctl import threadpool_limits

import nasopt


class Annotate:
    """Callback: record derived facts about the trial as user attributes (checkpointed,
    and columns ``user_attrs_<key>`` of ``opt.trials_dataframe()`` / ``opt.to_csv``)."""

    def __call__(self, opt: nasopt.Optimizer, trial: nasopt.Trial) -> None:
        opt.set_user_attr(trial, "n_params", n_params(trial.arch))


class JsonLinesLogger:
    """Callback: one JSON object per finished trial, appended to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, opt: nasopt.Optimizer, trial: nasopt.Trial) -> None:
        record = {
            "id": trial.id, "arch": trial.arch, "state": trial.state.value, "value": trial.value,
            "error": trial.error, "duration": trial.duration,
            "end": trial.datetime_complete.isoformat(),
            "best": opt.best.value if opt.best is not None else None,
            "user_attrs": dict(trial.user_attrs),  # with those set by Annotate, called before
        }
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


class TensorBoardLogger:
    """Callback: scalars per trial (value, best so far, duration, parameters) and the
    architecture as text, with ``torch.utils.tensorboard.SummaryWriter``."""

    def __init__(self, logdir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        self.writer = SummaryWriter(log_dir=str(logdir))

    def __call__(self, opt: nasopt.Optimizer, trial: nasopt.Trial) -> None:
        step = trial.id
        if trial.is_complete:
            self.writer.add_scalar("trial/value", trial.value, step)
        self.writer.add_scalar("trial/failed", float(trial.is_failed), step)
        if trial.duration is not None:
            self.writer.add_scalar("trial/duration_s", trial.duration, step)
        if opt.best is not None:
            self.writer.add_scalar("search/best_value", opt.best.value, step)
        for key, value in trial.user_attrs.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(f"user_attrs/{key}", value, step)
        self.writer.add_text("trial/arch", json.dumps(trial.arch), step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=int, default=int(os.environ.get("NASOPT_EXAMPLE_BUDGET", 30)))
    p.add_argument("--strategy", default="rea", help="rea, weaknas, random, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=30, help="training iterations per network")
    p.add_argument("--logdir", type=Path, default=Path("runs") / "nasopt")
    p.add_argument("--logger", choices=["auto", "tensorboard", "jsonl"], default="auto",
                   help="auto: tensorboard when installed, else jsonl")
    args = p.parse_args()
    threadpool_limits(1)  # small matrices: one BLAS thread is fastest and polite
    objective = make_objective(args.epochs)

    kind = args.logger
    if kind == "auto":
        kind = "tensorboard" if importlib.util.find_spec("tensorboard") else "jsonl"
    args.logdir.mkdir(parents=True, exist_ok=True)
    if kind == "tensorboard":
        logger = TensorBoardLogger(args.logdir)
        where = f"TensorBoard event files in {args.logdir} (tensorboard --logdir {args.logdir})"
    else:
        logger = JsonLinesLogger(args.logdir / "trials.jsonl")
        logger.path.write_text("")  # a fresh log per run
        where = f"{logger.path}, one JSON object per trial"

    opt = nasopt.create(args.strategy, SPACE, seed=args.seed)
    nasopt.optimize(objective, opt, args.budget, progress=False, callbacks=[Annotate(), logger])
    if kind == "tensorboard":
        logger.close()

    table = args.logdir / "trials.csv"
    opt.to_csv(table)  # the same columns as opt.trials_dataframe(), without pandas
    total = sum(t.duration for t in opt.trials if t.duration is not None)
    print(f"logged {len(opt.trials)} trials ({kind}): {where}")
    print(f"trial table: {table}")
    print(f"best: {opt.best.arch} ({opt.best.user_attrs['n_params']} weights), "
          f"validation accuracy {opt.best.value:.2f} %, {total:.1f} s of evaluations")


if __name__ == "__main__":
    main()

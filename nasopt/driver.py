"""The parallel driver: :func:`optimize` keeps ``k`` evaluations in flight on any executor.

Works with every :class:`concurrent.futures.Executor`: threads, processes, or a Dask
cluster through ``distributed.Client.get_executor()``. The optimizer is only touched from
the calling thread; the executor runs ``objective(arch)`` and nothing else, so the objective
(and the architectures) must be picklable for process or cluster executors.

Scheduling:

* ``batch_size=None`` (default, asynchronous): a new architecture is asked as soon as a
  slot frees up, so ``n_parallel`` evaluations are always running.
* ``batch_size=b`` (synchronous batches): ``ask(b)``, evaluate the batch, tell every
  result, then ask the next batch. With results told in the order they finish, a run whose
  evaluations finish in ask order makes exactly the same calls as the sequential loop
  ``for t in opt.ask(b): opt.tell(t, objective(t.arch))``.
* ``ordered=True``: results are told in the order the trials were asked, whatever order
  they finish in (later results wait for earlier ones), and in asynchronous mode a new
  trial is asked only after each in-order tell. The run is then reproducible (same seed,
  same trajectory) whatever the timing, at the price of idle slots while an early
  evaluation is slow.

Stopping: ``stop(opt) -> bool`` is checked after each result (no new submissions once it
returns ``True``; running evaluations are waited for and told). Ctrl-C
(:class:`KeyboardInterrupt`) stops the run at once (see :func:`optimize`): results that have
already arrived are told, evaluations still running are stopped (process pool workers are
killed) and stay *pending*, the checkpoint is written and the interrupt re-raised; a later
``optimize(objective, nasopt.load(path), ...)`` evaluates the pending trials first. A
finite space that runs out of unseen architectures ends the run with a
:class:`RuntimeWarning`.

Worker processes: a ``fork``-ed child never keeps an open journal (or its lock), and the
worker processes of a :class:`~concurrent.futures.ProcessPoolExecutor` exit within a
fraction of a second when the driver dies, even by ``SIGKILL``: every process the driver
forks while :func:`optimize` runs (pool workers, and whatever else is forked then), and any
pool worker that has run one of its evaluations (whatever the start method). nasopt cannot
reach a worker forked earlier that never ran one of its evaluations (it holds no journal
either), nor the workers of other executors (Dask, Ray...), which their own cluster manages.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import numbers
import os
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .core.checks import check_int
from .core.errors import CheckpointError, ConfigurationError, SpaceExhaustedError, TrialError
from .core.optimizer import Optimizer
from .core.trial import Trial

__all__ = ["optimize", "format_error", "CheckpointWarning"]


class CheckpointWarning(RuntimeWarning):
    """A checkpoint of :func:`optimize` could not be written; the run went on in memory."""


def format_error(exc: BaseException) -> str:
    """The text kept with a failed trial: exception type, message and the innermost frame."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    tb = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ is not None else []
    if tb:
        frame = tb[-1]
        text += f" (at {frame.filename}:{frame.lineno} in {frame.name})"
    return text


def _as_value(result: Any) -> tuple[float | None, str | None]:
    """(value, None) for a finite real result, else (None, why it is not usable)."""
    if isinstance(result, bool) or not isinstance(result, numbers.Real):
        return None, f"objective returned {result!r} ({type(result).__name__}), not a number"
    value = float(result)
    if not math.isfinite(value):
        return None, f"objective returned {value!r}"
    return value, None


def _as_values(result: Any, opt: Optimizer) -> tuple[Any, str | None]:
    """(values, None) for a result with one finite value per objective of ``opt`` (a
    sequence, or a dict by objective name), else (None, why it is not usable)."""
    try:
        return opt._check_values(result), None
    except TrialError as exc:
        return None, f"objective returned {result!r}: {exc}"


# ====================================================================== worker processes
#: Seconds between two checks, in a worker process, that the driver is still alive.
WATCH_INTERVAL = 0.2
_watching = False  # this process runs the watch of its parent
_active = 0  # optimize() calls running in this process
_active_lock = threading.Lock()


def _alive(pid: int) -> bool:
    """``pid`` runs (a zombie, dead but not reaped yet, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):  # no /proc (macOS): a zombie counts as alive
        return True


def _exit_with(parent: int, driver: int) -> None:
    """Return never: end this process as soon as ``parent`` is no longer its parent, or the
    ``driver`` (when it is not the parent: a fork server's child) has died."""
    while os.getppid() == parent and (parent == driver or _alive(driver)):
        time.sleep(WATCH_INTERVAL)
    os._exit(1)  # the driver is gone: nothing can receive this worker's results any more


def _start_watch(parent: int, driver: int) -> None:
    global _watching
    if not _watching:
        _watching = True
        threading.Thread(target=_exit_with, args=(parent, driver), name="nasopt-driver-watch",
                         daemon=True).start()


def _after_fork_in_child() -> None:
    """A process forked while :func:`optimize` runs (a pool worker) dies with the driver."""
    global _watching
    _watching = False  # the watch thread, if any, was not copied by fork
    if _active:
        _start_watch(os.getppid(), os.getppid())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Task:
    """What a process pool runs: ``objective(arch)``; in a worker process that the driver
    started (any start method), the first call also starts the watch that ends the worker
    when the driver dies."""

    def __init__(self, objective: Callable[[Any], Any], driver: int) -> None:
        self.objective, self.driver = objective, driver

    def __call__(self, arch: Any) -> Any:
        if not _watching and os.getpid() != self.driver:
            import multiprocessing

            parent = multiprocessing.parent_process()
            if parent is not None and parent.pid == self.driver:
                _start_watch(os.getppid(), self.driver)  # the parent: driver or fork server
        return self.objective(arch)


def _kill_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Kill the worker processes of ``pool`` (which is broken afterwards)."""
    kill = getattr(pool, "kill_workers", None)  # Python 3.14
    if kill is not None:
        kill()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):  # pragma: no cover - already gone
            pass


def _pool_like(pool: cf.ProcessPoolExecutor) -> cf.ProcessPoolExecutor:
    """A new process pool configured as ``pool``."""
    kwargs: dict[str, Any] = {"max_workers": getattr(pool, "_max_workers", None),
                              "mp_context": getattr(pool, "_mp_context", None),
                              "initializer": getattr(pool, "_initializer", None),
                              "initargs": getattr(pool, "_initargs", ())}
    if getattr(pool, "_max_tasks_per_child", None) is not None:
        kwargs["max_tasks_per_child"] = pool._max_tasks_per_child
    return cf.ProcessPoolExecutor(**kwargs)


class _Threads(cf.Executor):
    """nasopt's own thread executor: one daemon thread per evaluation, so that a hung
    objective never keeps the process from exiting (a thread cannot be killed) and an
    abandoned evaluation does not hold a worker that the next one needs."""

    def __init__(self) -> None:
        self._names = itertools.count()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        fut: cf.Future = cf.Future()

        def work() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the driver
                fut.set_exception(exc)
            else:
                fut.set_result(result)

        threading.Thread(target=work, name=f"nasopt-{next(self._names)}", daemon=True).start()
        return fut


class _Progress:
    """A tqdm bar when enabled and stderr is a terminal, else nothing."""

    def __init__(self, enabled: bool, total: int, opt: Optimizer) -> None:
        self.opt = opt
        self.bar = None
        if enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=f"nasopt {opt.name or type(opt).__name__}", unit="trial")

    def update(self, trial: Trial) -> None:
        if self.bar is None:
            return
        if self.opt.n_objectives > 1:
            post = {"front": len(self.opt.pareto_front)}
        else:
            best = self.opt.best
            post = {"best": f"{best.value:.4g}" if best is not None else "-"}
        failed = sum(t.is_failed for t in self.opt.trials)
        if failed:
            post["failed"] = failed
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Run:
    """State of one :func:`optimize` call."""

    def __init__(self, objective: Callable[[Any], Any], opt: Optimizer, n_trials: int,
                 executor: cf.Executor | None, n_parallel: int, batch_size: int | None,
                 ordered: bool, stop: Callable[[Optimizer], bool] | None,
                 checkpoint: str | None, checkpoint_every: int, catch: tuple[type[BaseException], ...],
                 progress: _Progress, timeout: float | None, on_checkpoint_error: str,
                 callbacks: Sequence[Callable[[Optimizer, Trial], Any]] = ()) -> None:
        self.objective, self.opt, self.budget = objective, opt, n_trials
        self.executor, self.n_parallel, self.batch_size = executor, n_parallel, batch_size
        self.ordered = ordered and executor is not None  # inline runs are ordered anyway
        self.stop, self.catch = stop, catch
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.on_checkpoint_error = on_checkpoint_error
        self.progress = progress
        self.callbacks = callbacks
        self.timeout = timeout
        self.driver = os.getpid()
        self.own_pools: list[cf.ProcessPoolExecutor] = []  # replacements of killed pools
        self.submitted = 0  # evaluations started by this call (counts toward the budget)
        self.running: dict[cf.Future, Trial] = {}
        self.started: dict[cf.Future, float] = {}  # when each was first seen running (timeout)
        self.queue: list[Trial] = list(opt.pending)  # asked earlier, never evaluated: first
        self.order: list[int] = []  # ids in ask order, not told yet (ordered mode)
        self.done: dict[int, tuple[Trial, Any, BaseException | None]] = {}  # waiting (ordered)
        self.credits = n_parallel  # ordered asynchronous mode: asks allowed before the next tell
        self.stopping = False
        self.since_save = 0

    # ------------------------------------------------------------------ evaluation
    def _submit(self, trial: Trial) -> None:
        self.submitted += 1
        if self.executor is None:
            try:
                result, exc = self.objective(trial.arch), None
            except self.catch as err:
                result, exc = None, err
            self._tell(trial, result, exc)
            return
        self.order.append(trial.id)
        self._launch(trial)

    def _launch(self, trial: Trial) -> None:
        """Hand ``trial`` to the executor."""
        if isinstance(self.executor, cf.ProcessPoolExecutor):
            fut = self.executor.submit(_Task(self.objective, self.driver), trial.arch)
        else:
            fut = self.executor.submit(self.objective, trial.arch)
        self.running[fut] = trial

    def _collect(self, fut: cf.Future) -> None:
        trial = self.running.pop(fut)
        self.started.pop(fut, None)
        exc = fut.exception()
        if exc is not None and not isinstance(exc, self.catch):
            raise exc
        self._deliver(trial, None if exc is not None else fut.result(), exc)

    def _deliver(self, trial: Trial, result: Any, exc: BaseException | None) -> None:
        """Tell a finished evaluation now, or once the earlier ones are told (ordered)."""
        if not self.ordered:
            self.order.remove(trial.id)
            self._tell(trial, result, exc)
            return
        self.done[trial.id] = (trial, result, exc)
        while self.order and self.order[0] in self.done:
            self._tell(*self.done.pop(self.order.pop(0)))
            self.credits += 1
            if self.batch_size is None:
                self._fill()  # the next ask follows this very tell: timing-independent

    def _tell(self, trial: Trial, result: Any, exc: BaseException | None) -> None:
        if exc is not None:
            done = self.opt.tell(trial, failed=True, error=format_error(exc))
        else:
            value, why = _as_value(result) if self.opt.n_objectives == 1 else \
                _as_values(result, self.opt)
            if why is None:
                done = self.opt.tell(trial, value)
            else:
                done = self.opt.tell(trial, failed=True, error=why)
        for callback in self.callbacks:  # the record as it is now (with earlier callbacks' attrs)
            callback(self.opt, self.opt._trials.get(done.id, done))
        self.since_save += 1
        self.progress.update(trial)
        if self.checkpoint and self.since_save >= self.checkpoint_every:
            self.save()
        if self.stop is not None and not self.stopping and self.stop(self.opt):
            self.stopping = True

    def save(self, may_raise: bool = True) -> None:
        """Write the checkpoint. A failed write warns and is retried ``checkpoint_every``
        results later, unless ``on_checkpoint_error="raise"`` (and ``may_raise``)."""
        if not self.checkpoint:
            return
        self.since_save = 0
        try:
            self.opt.save(self.checkpoint)
        except (OSError, CheckpointError) as exc:
            if may_raise and self.on_checkpoint_error == "raise":
                raise
            warnings.warn(
                f"checkpoint {self.checkpoint} could not be written ({type(exc).__name__}: {exc}); "
                f"the run goes on with its state in memory ({len(self.opt.trials)} trials) and "
                f"retries after {self.checkpoint_every} more results",
                CheckpointWarning, stacklevel=2)

    # ------------------------------------------------------------------ scheduling
    def _left(self) -> int:
        return self.budget - self.submitted

    def _fill(self) -> None:
        """Asynchronous mode: start evaluations while slots and budget allow."""
        while not self.stopping and self._left() > 0 and (
            self.credits > 0 if self.ordered else len(self.running) < self.n_parallel
        ):
            if not self.queue and not self._ask(1):
                return
            trial = self.queue.pop(0)
            self.credits -= 1
            self._submit(trial)
            if self.executor is None:
                return  # inline: one evaluation per loop turn

    def _ask(self, n: int) -> bool:
        """Queue ``n`` new trials (fewer when a finite space runs out, which ends the run)."""
        try:
            self.queue.extend(self.opt.ask(n))
            return True
        except SpaceExhaustedError:
            pass
        while n > 1:  # take what is left of the space
            n -= 1
            try:
                self.queue.extend(self.opt.ask(n))
                break
            except SpaceExhaustedError:
                continue
        warnings.warn(f"the search space is exhausted: stopping after {self.submitted + len(self.queue)} "
                      "evaluations", RuntimeWarning, stacklevel=4)
        self.stopping = True
        return bool(self.queue)

    def _next_batch(self) -> None:
        """Synchronous mode: start the next batch once the previous one is fully told."""
        if self.stopping or self.running or self._left() <= 0:
            return
        size = min(self.batch_size, self._left())
        if len(self.queue) < size and not self._ask(size - len(self.queue)) and not self.queue:
            return
        batch, self.queue = self.queue[:size], self.queue[size:]
        for trial in batch:
            self._submit(trial)

    def run(self) -> None:
        while True:
            if self.batch_size is None:
                self._fill()
            else:
                self._next_batch()
            if not self.running:
                if self.stopping or self._left() <= 0:
                    return
                continue  # inline evaluation: go on
            finished, _ = cf.wait(list(self.running), timeout=self._expire(),
                                  return_when=cf.FIRST_COMPLETED)
            # simultaneous completions are processed in ask order
            for fut in sorted(finished, key=lambda f: self.running[f].id):
                self._collect(fut)

    # ------------------------------------------------------------------ timeouts
    def _expire(self) -> float | None:
        """Fail the evaluations running for longer than ``timeout``; return how long the
        driver may wait before the next check (``None``: no timeout)."""
        if self.timeout is None:
            return None
        now = time.monotonic()
        for fut in self.running:
            if fut not in self.started and (fut.running() or fut.done()):
                self.started[fut] = now  # the clock starts when the executor starts it
        late = [f for f in self.running
                if not f.done() and f in self.started and now - self.started[f] >= self.timeout]
        if late:
            self._time_out(late)
            if not self.running:
                return 0.0
        wait = 0.05 if any(f not in self.started for f in self.running) else math.inf
        for fut, since in self.started.items():
            wait = min(wait, since + self.timeout - now)
        return max(wait, 0.0) if self.running else 0.0

    def _time_out(self, late: list[cf.Future]) -> None:
        pool = isinstance(self.executor, cf.ProcessPoolExecutor)
        how = ("its worker process was killed" if pool
               else "it was abandoned: a thread cannot be killed and goes on until the objective returns")
        trials = []
        for fut in sorted(late, key=lambda f: self.running[f].id):
            trials.append(self.running.pop(fut))
            self.started.pop(fut, None)
            fut.cancel()
        if pool:
            self._replace_pool()
        for trial in trials:
            self._deliver(trial, None, TimeoutError(
                f"evaluation of trial #{trial.id} exceeded timeout={self.timeout:g} s; {how}"))

    def _replace_pool(self) -> None:
        """Kill the workers of the process pool (a hung evaluation cannot be stopped
        otherwise; the pool breaks), and go on with a new pool: results that had arrived are
        told, the other evaluations killed with the pool are started again."""
        old = self.executor
        _kill_workers(old)
        cf.wait(list(self.running), timeout=30)
        self.executor = _pool_like(old)
        self.own_pools.append(self.executor)
        for fut in sorted(self.running, key=lambda f: self.running[f].id):
            exc = fut.exception() if fut.done() and not fut.cancelled() else None
            if fut.done() and not fut.cancelled() and not isinstance(exc, cf.BrokenExecutor):
                self._collect(fut)
            else:  # died with the pool: run it again (it counts once toward the budget)
                trial = self.running.pop(fut)
                self.started.pop(fut, None)
                self._launch(trial)
        if old not in self.own_pools:
            warnings.warn("optimize(timeout=...): killed the worker processes of the "
                          "ProcessPoolExecutor passed as executor= (it is broken now) and "
                          "goes on with a new pool of the same configuration",
                          RuntimeWarning, stacklevel=4)

    # ------------------------------------------------------------------ early exit
    def abort(self, exc: BaseException) -> None:
        """The run ends early (``exc``: Ctrl-C, or an error). Tell the results that have
        arrived; cancel the evaluations not started; on Ctrl-C (or ``SystemExit``) kill the
        process pool workers running the others. Unfinished trials stay pending."""
        for fut in self.running:
            fut.cancel()
        if not isinstance(exc, Exception) and isinstance(self.executor, cf.ProcessPoolExecutor) \
                and any(not f.done() for f in self.running):
            _kill_workers(self.executor)
            cf.wait(list(self.running), timeout=10)  # results already sent still arrive
        for fut in sorted(self.running, key=lambda f: self.running[f].id):
            if not fut.done() or fut.cancelled():
                continue
            err = fut.exception()
            if err is None or (isinstance(err, self.catch) and not isinstance(err, cf.BrokenExecutor)):
                self.done[self.running[fut].id] = (self.running[fut], fut.result() if err is None else None, err)
        self.running.clear()
        for tid in sorted(self.done):  # every result that has arrived, in ask order
            self._tell(*self.done.pop(tid))

    def close(self) -> None:
        for pool in self.own_pools:
            pool.shutdown(wait=False, cancel_futures=True)


def optimize(
    objective: Callable[[Any], float],
    opt: Optimizer,
    n_trials: int,
    *,
    executor: cf.Executor | None = None,
    n_parallel: int = 1,
    batch_size: int | None = None,
    ordered: bool = False,
    stop: Callable[[Optimizer], bool] | None = None,
    checkpoint: str | None = None,
    checkpoint_every: int = 10,
    on_checkpoint_error: str = "warn",
    timeout: float | None = None,
    catch: tuple[type[BaseException], ...] | type[BaseException] = Exception,
    progress: bool = True,
    callbacks: Sequence[Callable[[Optimizer, Trial], Any]] | None = None,
) -> Optimizer:
    """Run ``n_trials`` evaluations of ``objective`` proposed by ``opt``, ``n_parallel`` at once.

    Args:
        objective: ``objective(arch) -> float``; an exception (of a type in ``catch``) or a
            non-finite / non-numeric result makes the trial *failed*, with the error text kept
            in ``trial.error``.
        opt: Any nasopt optimizer (``nasopt.create(...)``, or ``nasopt.load(path)`` to resume:
            its pending trials are evaluated first and count toward ``n_trials``).
        n_trials: Evaluations to run in this call.
        executor: A :class:`concurrent.futures.Executor` (thread or process pool, Dask's
            ``client.get_executor()``). ``None``: evaluate in this thread when ``n_parallel``
            is 1 (and no ``timeout``), else in threads of nasopt's own (daemon threads, one
            per evaluation, so a hung objective never keeps the program from exiting).
        n_parallel: Evaluations kept in flight (asynchronous mode).
        batch_size: ``None`` for asynchronous scheduling, or ``b`` for synchronous batches of
            ``b`` (then up to ``b`` run at once, whatever ``n_parallel``).
        ordered: Tell results in ask order (reproducible whatever the timing).
        stop: ``stop(opt) -> bool`` checked after each result; ``True`` ends the run once the
            running evaluations are told.
        checkpoint: Path where ``opt.save`` writes every ``checkpoint_every`` results and at
            the end (also after Ctrl-C or an error).
        checkpoint_every: Results between two checkpoints.
        on_checkpoint_error: ``"warn"`` (default): a checkpoint that cannot be written (disk
            full, read-only directory...) gives a :class:`CheckpointWarning`, the run goes on
            with its state in memory and the write is tried again ``checkpoint_every``
            results later (and at the end). ``"raise"``: the error ends the run. A failed
            write while the run is already ending on an exception only warns.
        timeout: Seconds an evaluation may run, counted from when the executor starts it
            (keep ``n_parallel`` at most the executor's workers); a longer one becomes a
            failed trial with a ``TimeoutError`` message, and a new evaluation takes its
            slot. A :class:`~concurrent.futures.ProcessPoolExecutor` has its worker
            processes killed (a pool cannot kill one worker alone), the other evaluations
            that were running are started again on a new pool of the same configuration,
            and the pool passed in is left broken. A thread cannot be killed: it is
            abandoned and goes on until the objective returns (its result is ignored;
            with your own thread pool it keeps a worker busy until then). Other executors
            (Dask...) get ``future.cancel()``. A resumed run evaluates its pending trials
            first, so an architecture that hung stays bounded by ``timeout`` too.
        catch: Exception types of the objective turned into failed trials; others propagate.
        progress: Show a tqdm progress bar (only when stderr is a terminal).
        callbacks: Functions called as ``callback(opt, trial)`` after each result is told,
            in order, with the finished trial (complete or failed; with the user attributes
            that earlier callbacks set), before the checkpoint
            and ``stop`` see it: log the trial (TensorBoard, MLflow: see docs/usage.md),
            or annotate it with ``opt.set_user_attr(trial, key, value)``. An exception
            raised by a callback ends the run (the checkpoint is still written).

    Returns:
        ``opt`` itself, with every result told (``opt.best`` is the answer).

    Ctrl-C (:class:`KeyboardInterrupt`) stops the run at once, with one keystroke: results
    that have already arrived are told, evaluations not started are cancelled, running
    ones are stopped (the worker processes of a ``ProcessPoolExecutor`` are killed, which
    breaks that pool; threads are abandoned, their results ignored), the checkpoint is
    written and the interrupt re-raised. Stopped evaluations stay *pending* and are run
    again, first, by the resumed run; an evaluation that finished and was reported is
    never run again. (An evaluation that returns within the same instant as the kill may
    be lost with its worker and run again.) With your own thread pool, its ``shutdown``
    (the end of a ``with`` block) still waits for the abandoned threads.
    """
    if not isinstance(opt, Optimizer):
        raise ConfigurationError(f"opt must be a nasopt Optimizer, got {type(opt).__name__}")
    if not callable(objective):
        raise ConfigurationError(f"objective must be callable, got {objective!r}")
    n_trials = check_int("n_trials", n_trials, 0)
    n_parallel = check_int("n_parallel", n_parallel, 1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, 1)
    if on_checkpoint_error not in ("warn", "raise"):
        raise ConfigurationError(
            f"on_checkpoint_error must be 'warn' or 'raise', got {on_checkpoint_error!r}")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) \
                or not math.isfinite(timeout) or timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        timeout = float(timeout)
    if isinstance(catch, type):
        catch = (catch,)
    callbacks = [] if callbacks is None else callbacks
    if not isinstance(callbacks, Sequence) or not all(callable(c) for c in callbacks):
        raise ConfigurationError(
            f"callbacks must be a list of functions callback(opt, trial), got {callbacks!r}"
        )
    if executor is not None and not isinstance(executor, cf.Executor):
        raise ConfigurationError(
            f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}"
        )
    parallel = batch_size if batch_size is not None else n_parallel
    if executor is None and (parallel > 1 or timeout is not None):
        executor = _Threads()
    bar = _Progress(progress, n_trials, opt)
    run = _Run(objective, opt, n_trials, executor, n_parallel, batch_size, ordered, stop,
               None if checkpoint is None else str(checkpoint), checkpoint_every, tuple(catch), bar,
               timeout, on_checkpoint_error, tuple(callbacks))
    global _active
    with _active_lock:
        _active += 1
    finished = False
    try:
        run.run()
        finished = True
    except BaseException as exc:
        run.abort(exc)
        raise
    finally:
        with _active_lock:
            _active -= 1
        bar.close()
        run.close()
        run.save(may_raise=finished)
    return opt

"""THE loop: every fit of the package is :func:`run` of a problem.

A *problem* (:mod:`._problems`) owns its factors and knows how to take one
iteration; the loop owns everything else: the stopping rule, the history,
the progress output, restarts (:func:`fit`) and the one
:class:`~sklearn.exceptions.ConvergenceWarning`. A problem provides

- ``check_every``: how often its objective is worth evaluating (1 for the
  Frobenius loss, more where it costs a logarithm per entry);
- ``start()``: the objective at the start, or None when it would cost a
  pass;
- ``step(evaluate)``: one iteration; the objective of the iterate it leaves
  when ``evaluate`` is true, else None;
- ``tolerance(previous)``: the size against which a decrease counts as
  small (the objective itself for NMF);
- ``result()``: the factors in the units of the data (the objective and
  history stay in the problem's own units: those of its scaled data, which
  may lie beyond the floating-point range in the data's units).

:func:`solve_rows` is the other entry point, for ``transform``: a rule
applied to every row of ``W`` with ``H`` fixed, each row on its own.
"""

import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from . import _kernels as K
from . import _progress

#: Below this many multiply-adds per pass (stored entries of X times k), the
#: kernels run on one thread: waking a second thread for each parallel loop
#: costs about a millisecond here, more than it saves (measured: 1,797 x 64 at
#: rank 10 took 0.67 ms per pass on one thread and 1.6 ms on two; the two
#: break even near 5e6).
SERIAL_WORK = 5_000_000

#: How often the progress line is printed with ``verbose=1``.
VERBOSE_EVERY = 10

#: Multiply-adds one call of a row kernel may do in ``transform``: rows are
#: solved in blocks of about this much work (a fraction of a second), so that
#: Ctrl-C, which Python only sees between calls, stops a long solve quickly.
WORK_PER_CALL = 2e8

_NO_L2 = np.zeros(0)


@dataclass
class FitResult:
    """What :func:`run` and :func:`fit` return.

    ``W`` and ``H`` are in the units of the data; ``objective`` and
    ``history`` in the problem's (see the module notes).
    """

    W: np.ndarray
    H: np.ndarray
    n_iter: int
    objective: float
    history: np.ndarray
    converged: bool


# -- threads -------------------------------------------------------------------


class _OneBlasThread:
    """Process-wide: BLAS on one thread while any thread is inside the engine.

    The engine's only BLAS calls are small products between the Numba passes
    (and the NNDSVD init). A multithreaded BLAS keeps its threads spinning for
    a while after each call, and they then compete with the Numba threads of
    the next pass (measured: a rank-50 pass 25 % slower); one thread also
    makes every result independent of the BLAS thread count. The limit is
    process-wide, so it is counted: the first thread to enter sets it, the
    last to leave restores the user's setting, whatever the order in which
    several Python threads (concurrent ``predict`` calls) come and go.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None
        self._controller = None

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                if self._controller is None:  # building it costs milliseconds
                    self._controller = ThreadpoolController()
                self._limiter = self._controller.limit(limits=1,
                                                       user_api="blas")
            self._depth += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._limiter.restore_original_limits()
                self._limiter = None


one_blas_thread = _OneBlasThread()


@contextmanager
def engine_threads(work):
    """Run the engine on one thread for small inputs, BLAS always on one.

    ``work`` is the multiply-adds of a pass (stored entries times rank). Only
    ever lowers the thread count set with ``numba.set_num_threads`` (which is
    per Python thread); the results do not depend on it.
    """
    before = numba.get_num_threads()
    if work < SERIAL_WORK:
        numba.set_num_threads(1)
    try:
        with one_blas_thread:
            yield
    finally:
        numba.set_num_threads(before)


# -- the loop ------------------------------------------------------------------


def run(problem, *, max_iter, tol, verbose=0):
    """Iterate ``problem`` until the objective stalls or ``max_iter`` is reached.

    The objective is evaluated every ``problem.check_every`` iterations and
    at the last one. The fit stops when the mean decrease per iteration since
    the previous evaluation is at most ``tol * problem.tolerance(previous)``;
    ``tol=0`` runs ``max_iter`` iterations. Returns a :class:`FitResult`
    (``converged`` false when ``max_iter`` was reached first; :func:`fit`
    warns).
    """
    with engine_threads(problem.work):
        history, n_iter, converged = _iterate(problem, max_iter, tol, verbose)
    W, H = problem.result()
    history = np.asarray(history)
    return FitResult(W, H, n_iter, history[-1] if history.size else np.nan,
                     history, converged)


def _iterate(problem, max_iter, tol, verbose):
    """The iterations of :func:`run`: history, iterations run, convergence."""
    history = []
    previous = problem.start()
    previous = np.inf if previous is None else previous
    checked_at, n_iter, converged = 0, 0, False
    start = time.perf_counter()
    for n_iter in range(1, max_iter + 1):
        evaluate = n_iter % problem.check_every == 0 or n_iter == max_iter
        objective = problem.step(evaluate)
        if objective is None:
            continue
        if not np.isfinite(objective):
            raise ValueError(f"The objective became {objective} at iteration "
                             f"{n_iter}: {problem.overflow_hint}")
        history.append(objective)
        _report(verbose, n_iter, objective, previous, start)
        if (tol > 0 and np.isfinite(previous) and previous - objective
                <= tol * problem.tolerance(previous) * (n_iter - checked_at)):
            converged = True
            break
        previous, checked_at = objective, n_iter
    return history, n_iter, converged


def fit(starts, *, max_iter, tol, verbose=0):
    """Run each problem of ``starts`` and keep the one of lowest objective.

    ``starts`` is a sequence of ``(name, make_problem)``: a name for the
    progress output (the init) and a function building the problem. Warns
    once, with a :class:`~sklearn.exceptions.ConvergenceWarning`, when the
    retained run stopped at ``max_iter``: the package's only convergence
    warning.
    """
    best = None
    for index, (name, make_problem) in enumerate(starts):
        label = f"fit {index + 1}/{len(starts)} ({name} init)"
        with _progress.phase(label, verbose=verbose and len(starts) > 1):
            with one_blas_thread:  # inits (SVD, eigensolver) included
                problem = make_problem()
            result = run(problem, max_iter=max_iter, tol=tol, verbose=verbose)
        if verbose and len(starts) > 1:
            print(f"Run {index + 1}/{len(starts)} ({name} init): objective "
                  f"{result.objective:.6e} after {result.n_iter} iterations",
                  flush=True)
        if best is None or result.objective < best.objective:
            best = result
    if tol > 0 and not best.converged:
        warnings.warn(
            f"Maximum number of iterations {max_iter} reached before the "
            f"relative decrease of the objective fell below tol={tol}. "
            "Increase max_iter or tol, or try another init.",
            ConvergenceWarning,
        )
    return best


def _report(verbose, n_iter, objective, previous, start):
    """Print one progress line, every iteration at ``verbose >= 2``."""
    if not verbose or (verbose < 2 and n_iter % VERBOSE_EVERY and n_iter > 1):
        return
    decrease = (previous - objective) / abs(previous) if np.isfinite(previous) \
        and previous else np.nan
    print(f"Iteration {n_iter:5d}  objective {objective:.6e}  "
          f"relative decrease {decrease:.3e}  "
          f"elapsed {time.perf_counter() - start:.2f}s", flush=True)


# -- rows with H fixed -------------------------------------------------------------


def row_settings(*, l1=0.0, l2=0.0, tol=0.0, beta=2.0, gamma=1.0, ratio=0.0,
             step=0.0):
    """The float settings array a pass takes (see ``_kernels._dispatch``)."""
    values = np.zeros(K.N_SETTINGS)
    values[K.L1], values[K.L2], values[K.TOL] = l1, l2, tol
    values[K.BETA], values[K.GAMMA] = beta, gamma
    values[K.RATIO], values[K.STEP] = ratio, step
    return values


def solve_rows(storage, W, factors, rule, config, *, max_iter, aux=None,
               aux_l2=None):
    """Apply ``rule`` to every row of ``W`` (in place) with ``H`` fixed.

    Each row runs up to ``max_iter`` steps and stops once it meets the
    stopping test of ``config`` (a :func:`settings` array); a row's result
    depends on that row alone, never on the other rows or their number. The
    rows are solved in blocks of bounded work, and a row needing more than
    that in steps of bounded count, so that Ctrl-C stops a long solve
    quickly; neither changes any row's result.

    The Frobenius rules on rows without missing entries need only ``x @
    H.T`` of each row: it is computed once per block and the rows are
    solved from it (``_kernels.solve_fro_rows``, the pass's own one-row
    arithmetic, bit for bit), so that a solve does not compile the large
    pass kernels, unless this process has already run that pass on such
    arrays (after a fit): then it takes the pass, at no compile cost.
    """
    n = storage.shape[0]
    k = W.shape[1]
    row_work = storage.n_entries / max(n, 1) * k + k * k
    steps = int(max(1, min(max_iter, WORK_PER_CALL // row_work)))
    block = int(max(1, WORK_PER_CALL // (row_work * steps)))
    from_xh = (rule in (K.MU_FRO, K.CD_FRO) and not storage.masked
               and not storage.pass_has_run(W, factors, rule))
    with engine_threads(storage.n_entries * k):
        for start in range(0, n, block):
            stop = min(n, start + block)
            part = storage.rows(start, stop) if (start, stop) != (0, n) \
                else storage
            done = np.zeros(stop - start, dtype=np.bool_)
            aux_part = None if aux is None else aux[start:stop]
            aux_l2_part = None if aux_l2 is None else aux_l2[start:stop]
            XHt = part.xh(factors) if from_xh else None
            pull = (np.zeros((0, k)) if aux_part is None else aux_part,
                    _NO_L2 if aux_l2_part is None else aux_l2_part)
            for taken in range(0, max_iter, steps):
                n_steps = min(steps, max_iter - taken)
                if from_xh:
                    K.solve_fro_rows(XHt, W[start:stop], factors.HHt, *pull,
                                     done, rule, n_steps, config)
                else:
                    part.run_pass(W[start:stop], factors, rule, 0, n_steps,
                                  config, aux=aux_part, aux_l2=aux_l2_part,
                                  done=done)
                if done.all():
                    break
    return W

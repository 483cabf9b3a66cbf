"""The solvers compared, behind one small interface.

Every solver starts from the same ``(W0, H0)`` and is run with ``tol=0``, so
that ``max_iter`` iterations are always done. ``fit_time(max_iter)`` times
one call of the public entry point from scratch (fixed costs included);
``trajectory(...)`` records the objective against the iteration count by
continuing from the previous checkpoint, which gives exactly the iterates of
one long run for a solver whose state is only ``(W, H)`` (every solver here
except MiniBatchNMF, whose trajectory is made of separate fits instead).

All objectives are computed with the same oracle, the prepared storage's
``divergence`` (``0.5 * ||X - WH||_F^2`` or the generalized KL divergence,
scikit-learn's conventions), outside the timed region.
"""

import time
import warnings

import numpy as np
from sklearn.decomposition import NMF, MiniBatchNMF
from sklearn.exceptions import ConvergenceWarning

from sknmfcluster import NMFClusterer, _init, _problems, _storage
from sknmfcluster._losses import Loss, auto_solver

try:  # the loops behind NMF.fit_transform, to continue a run cheaply
    from sklearn.decomposition._nmf import (_fit_coordinate_descent,
                                            _fit_multiplicative_update)
except ImportError:  # pragma: no cover - a future scikit-learn
    _fit_coordinate_descent = _fit_multiplicative_update = None

BETA_NAMES = {2: "frobenius", 1: "kullback-leibler"}
#: Plain NMF clustering, where the estimator offers other methods too.
NMF_METHOD = ({"method": "nmf"} if "method" in NMFClusterer._get_param_names()
              else {})

warnings.filterwarnings("ignore", category=ConvergenceWarning)


class Problem:
    """Data, rank, loss and the common starting point of every solver."""

    def __init__(self, X, W0, H0, beta):
        self.X = X
        self.Xp = _storage.prepare(X)
        self.W0, self.H0 = W0, H0
        self.rank = W0.shape[1]
        self.beta = beta
        self.beta_name = BETA_NAMES[beta]

    def objective(self, W, H):
        dtype = self.W0.dtype
        return float(self.Xp.divergence(np.ascontiguousarray(W, dtype),
                                        np.ascontiguousarray(H, dtype),
                                        float(self.beta)))


class Solver:
    """Base: subclasses define ``_fit(max_iter)`` and ``_advance(W, H, n)``."""

    name = ""
    label = ""
    #: Whether ``_advance`` continues a run exactly (state is only W and H).
    chainable = True
    #: What one "iteration" means for this solver.
    unit = "pass"

    def __init__(self, problem):
        self.problem = problem

    def fit_time(self, max_iter):
        """Wall time of one fit with ``max_iter`` iterations from (W0, H0)."""
        W, H = self.problem.W0.copy(), self.problem.H0.copy()
        start = time.perf_counter()
        self._fit(W, H, max_iter)
        return time.perf_counter() - start

    def trajectory(self, max_iter, wall_cap_s, points):
        """Objective at each checkpoint up to ``max_iter`` iterations.

        Returns a dict of lists ``iters``, ``objective`` and ``seconds`` (wall
        time spent in the solver so far, per-call fixed costs included);
        iteration 0 is the common initial point. Stops early, as a safety
        net, once ``wall_cap_s`` seconds have been spent.
        """
        p = self.problem
        W, H = p.W0.copy(), p.H0.copy()
        curve = {"iters": [0], "objective": [p.objective(W, H)], "seconds": [0.0]}
        spent, done = 0.0, 0
        for target in points:
            if target > max_iter or spent > wall_cap_s:
                break
            start = time.perf_counter()
            W, H = self._advance(W, H, target - done)
            spent += time.perf_counter() - start
            done = target
            curve["iters"].append(done)
            curve["objective"].append(p.objective(W, H))
            curve["seconds"].append(spent)
        return curve


def fit_factors(Xp, W, H, beta, max_iter, solver):
    """The engine alone: one run of plain NMF from ``(W, H)``, ``tol=0``."""
    _problems.fit_plain(Xp, W, H, Loss(beta), max_iter=max_iter, tol=0.0,
                        solver=solver)


class Engine(Solver):
    """sknmfcluster's engine alone: plain NMF (``_problems.fit_plain``) on
    prepared input, with the estimators' default solver (``solver="auto"``
    on data in memory: ``"cd"`` for the Frobenius and KL losses, ``"mu"``
    for the other betas)."""

    name, label = "ours", "sknmfcluster engine (fit_plain, default solver)"
    solver = None

    def _solver_name(self):
        if self.solver is not None:
            return self.solver
        return auto_solver(Loss(self.problem.beta))

    def _fit(self, W, H, max_iter):
        fit_factors(self.problem.Xp, W, H, self.problem.beta, max_iter,
                    self._solver_name())

    def _advance(self, W, H, n_iter):
        self._fit(W, H, n_iter)
        return W, H


class EngineMU(Engine):
    """The engine with multiplicative updates (next to the default ``cd``)."""

    name, label = "ours-mu", "sknmfcluster engine (fit_plain, solver='mu')"
    solver = "mu"


class EngineCD(Engine):
    """The engine with coordinate descent (KL: Newton steps per coordinate)."""

    name, label = "ours-cd", "sknmfcluster engine (fit_plain, solver='cd')"
    solver = "cd"


class Estimator(Solver):
    """The full ``NMFClusterer.fit`` (validation, engine, code re-solve, labels),
    with ``method="nmf"`` where the estimator has a ``method`` parameter.

    With ``tol=0`` the final re-solve of the codes also runs ``max_iter``
    steps per row, so its time grows with ``max_iter`` beyond the engine's.
    Its iterates are the engine's: no trajectory of its own.
    """

    name, label = "ours-est", "NMFClusterer.fit (tol=0)"
    chainable = False

    def _fit(self, W, H, max_iter):
        p = self.problem
        NMFClusterer(n_clusters=p.rank, beta_loss=p.beta_name, init="custom",
                     max_iter=max_iter, tol=0.0, **NMF_METHOD).fit(p.X, W=W, H=H)


class SklearnMU(Solver):
    """``sklearn.decomposition.NMF(solver="mu")``."""

    name, label = "skl-mu", "sklearn NMF(solver='mu')"

    def _fit(self, W, H, max_iter):
        p = self.problem
        NMF(n_components=p.rank, solver="mu", beta_loss=p.beta_name,
            init="custom", max_iter=max_iter, tol=0.0).fit_transform(p.X, W=W, H=H)

    def _advance(self, W, H, n_iter):
        p = self.problem
        if _fit_multiplicative_update is None:
            model = NMF(n_components=p.rank, solver="mu", beta_loss=p.beta_name,
                        init="custom", max_iter=n_iter, tol=0.0)
            return model.fit_transform(p.X, W=W, H=H), model.components_
        W, H, _ = _fit_multiplicative_update(p.X, W, H, p.beta_name,
                                             max_iter=n_iter, tol=0.0)
        return W, H


class SklearnCD(Solver):
    """``sklearn.decomposition.NMF(solver="cd")`` (Frobenius loss only)."""

    name, label = "skl-cd", "sklearn NMF(solver='cd')"

    def _fit(self, W, H, max_iter):
        p = self.problem
        NMF(n_components=p.rank, solver="cd", beta_loss=p.beta_name,
            init="custom", max_iter=max_iter, tol=0.0).fit_transform(p.X, W=W, H=H)

    def _advance(self, W, H, n_iter):
        p = self.problem
        if _fit_coordinate_descent is None:
            model = NMF(n_components=p.rank, solver="cd", init="custom",
                        max_iter=n_iter, tol=0.0)
            return model.fit_transform(p.X, W=W, H=H), model.components_
        W, H, _ = _fit_coordinate_descent(p.X, W, H, tol=0.0, max_iter=n_iter)
        return W, H


class SklearnMiniBatch(Solver):
    """``sklearn.decomposition.MiniBatchNMF``; one iteration is one epoch.

    Its state includes running statistics, so a run cannot be continued from
    ``(W, H)``: each trajectory point is a separate, timed fit, and its
    ``seconds`` are measured, fixed costs included.
    """

    name, label = "skl-mb", "sklearn MiniBatchNMF (iteration = epoch)"
    chainable = False
    unit = "epoch"

    def _model(self, max_iter):
        p = self.problem
        return MiniBatchNMF(n_components=p.rank, beta_loss=p.beta_name,
                            init="custom", max_iter=max_iter, tol=0.0,
                            max_no_improvement=None, random_state=0)

    def _fit(self, W, H, max_iter):
        return self._model(max_iter).fit_transform(self.problem.X, W=W, H=H)

    def trajectory(self, max_iter, budget_s, points):
        """Separate fits at each checkpoint until one takes ``budget_s``."""
        p = self.problem
        curve = {"iters": [0], "objective": [p.objective(p.W0, p.H0)],
                 "seconds": [0.0]}
        elapsed = 0.0
        for target in points:
            if target > max_iter or elapsed > budget_s:
                break
            model = self._model(target)
            W, H = p.W0.copy(), p.H0.copy()
            start = time.perf_counter()
            W = model.fit_transform(p.X, W=W, H=H)
            elapsed = time.perf_counter() - start
            curve["iters"].append(target)
            curve["objective"].append(p.objective(W, model.components_))
            curve["seconds"].append(elapsed)
        return curve


def random_init(X, rank):
    """The common starting point: the package's random init, seed 0."""
    return _init.initialize(X, rank, "random", np.random.RandomState(0))


def solvers_for(problem, include_cd):
    """The solvers compared on ``problem`` (scikit-learn's CD only for the
    Frobenius loss); the engine's other solver next to its default."""
    classes = [Engine, Estimator, SklearnMU]
    if Loss(problem.beta).supports_cd:  # the default is "cd": add "mu"
        classes.insert(1, EngineMU)
    if include_cd and problem.beta == 2:
        classes.append(SklearnCD)
    classes.append(SklearnMiniBatch)
    return [cls(problem) for cls in classes]


def warm_up(solver):
    """One tiny fit on the first rows: loads Numba caches and lazy imports."""
    p = solver.problem
    rows = min(p.X.shape[0], 64)
    tiny = Problem(p.X[:rows], p.W0[:rows].copy(), p.H0.copy(), p.beta)
    type(solver)(tiny)._fit(tiny.W0.copy(), tiny.H0.copy(), 1)

"""``non_negative_factorization``: scikit-learn's function, with fixed parts."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from . import _problems, _storage
from ._init import INITS, check_custom_factors, default_init, initialize
from ._losses import BETA_LOSSES, Loss, Penalties, auto_solver, beta_value


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "W": ["array-like", None],
        "H": ["array-like", None],
        "n_components": [Interval(Integral, 1, None, closed="left"),
                         StrOptions({"auto"}), None],
        "init": [StrOptions(set(INITS)), None],
        "update_H": ["boolean"],
        "fixed_components": ["array-like", None],
        "beta_loss": [StrOptions(set(BETA_LOSSES)), Real],
        "solver": [StrOptions({"auto", "cd", "mu"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "alpha_W": [Interval(Real, 0, None, closed="left")],
        "alpha_H": [Interval(Real, 0, None, closed="left"),
                    StrOptions({"same"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def non_negative_factorization(X, W=None, H=None, n_components="auto", *,
                               init=None, update_H=True, fixed_components=None,
                               beta_loss="frobenius", solver="auto", tol=1e-4,
                               max_iter=200, alpha_W=0.0, alpha_H="same",
                               l1_ratio=0.0, random_state=None, verbose=0):
    r"""Non-negative matrix factorization ``X ~ W H``, optionally with ``H`` fixed.

    The function of :func:`sklearn.decomposition.non_negative_factorization`
    on this package's engine, with its parameters, penalties and defaults
    (except ``solver="auto"``, the coordinate descent for the Frobenius and
    Kullback-Leibler losses and the multiplicative updates otherwise, and no
    ``shuffle``), plus
    ``fixed_components``: with ``init="custom"``, the rows of
    ``H`` listed there keep their given values while the others are learned
    (known parts, such as the spectrum of a known source, next to new
    ones). With ``update_H=False`` every row of ``H`` is fixed and only the
    codes are solved, each sample on its own. It minimises

    .. math::

        D_\beta(X, W H)
        + \alpha_W \rho\, m \|W\|_1
        + \frac{\alpha_W (1 - \rho)\, m}{2} \|W\|_F^2
        + \alpha_H \rho\, n \|H\|_1
        + \frac{\alpha_H (1 - \rho)\, n}{2} \|H\|_F^2

    with ``X`` of shape (n, m) and :math:`\rho` = ``l1_ratio``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Non-negative data. ``NaN`` marks a missing entry (stored ``NaN`` in
        sparse input), left out of the loss as in :class:`SparseNMF` (see
        :ref:`missing_values`); ``W @ H`` predicts it.
    W : array-like of shape (n_samples, n_components), default=None
        Initial codes for ``init="custom"``; not modified.
    H : array-like of shape (n_components, n_features), default=None
        Initial components for ``init="custom"``, or the fixed components
        with ``update_H=False``; not modified.
    n_components : int, "auto" or None, default="auto"
        Rank. ``"auto"`` takes it from ``H`` (or ``W``) when they are used,
        and ``n_features`` otherwise; None means ``n_features``.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"}, default=None
        Initial factors; None means ``"nndsvda"`` when the rank allows an
        SVD and ``"random"`` otherwise. With ``update_H=False`` the codes
        start from a constant, whatever ``init`` says.
    update_H : bool, default=True
        False solves the codes of ``X`` with ``H`` fixed.
    fixed_components : array-like of int, default=None
        Indices of the rows of the custom ``H`` that stay fixed.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}
        Beta-divergence :math:`D_\beta`, as in scikit-learn; the default is
        ``"frobenius"``.
    solver : {"auto", "cd", "mu"}, default="auto"
        ``"cd"`` (Frobenius and KL; for KL not with ``fixed_components``) or
        ``"mu"``; ``"auto"`` is ``"cd"`` for the Frobenius loss, and for KL
        unless ``fixed_components`` is given, and ``"mu"`` otherwise.
    tol : float, default=1e-4
        Relative decrease of the objective per iteration at which to stop;
        with ``update_H=False``, the relative change of a sample's codes.
    max_iter : int, default=200
        Maximum number of iterations (of steps per sample with
        ``update_H=False``).
    alpha_W : float, default=0.0
        Weight of the penalty on ``W``.
    alpha_H : float or "same", default="same"
        Weight of the penalty on ``H``; ``"same"`` takes ``alpha_W``.
    l1_ratio : float, default=0.0
        Share of the L1 penalty.
    random_state : int, RandomState instance or None, default=None
        Seed of the random inits and of the randomized SVD of NNDSVD.
    verbose : int, default=0
        Progress output.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
        The fitted components (with ``update_H=False``, the given ``H``).
    n_iter : int
        Iterations of the fit; with ``update_H=False``, ``max_iter``, the
        bound on each sample's steps (each stops on its own).

    See Also
    --------
    sklearn.decomposition.non_negative_factorization : The original.
    SparseNMF : The estimator, with sparseness targets.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmfcluster import non_negative_factorization
    >>> rng = np.random.RandomState(0)
    >>> known = np.array([[1.0, 1.0, 0.0, 0.0]])
    >>> X = rng.rand(30, 2) @ np.vstack([known, [[0.0, 0.0, 1.0, 1.0]]])
    >>> H0 = np.vstack([known, rng.rand(1, 4)])
    >>> W, H, n_iter = non_negative_factorization(
    ...     X, H=H0, W=rng.rand(30, 2), init="custom", fixed_components=[0],
    ...     max_iter=500, tol=1e-8)
    >>> bool(np.array_equal(H[0], known[0]))
    True
    >>> bool(np.abs(X - W @ H).max() < 1e-3)
    True
    """
    X = check_array(X, accept_sparse=("csr", "csc"),
                    dtype=[np.float64, np.float32], ensure_non_negative=True,
                    ensure_all_finite="allow-nan", input_name="X")
    loss = Loss(beta_value(beta_loss))
    storage = _storage.prepare(X)
    loss.check_data(storage)
    n, m = X.shape
    rho = l1_ratio
    a_H = alpha_W if alpha_H == "same" else alpha_H
    penalties = Penalties(alpha_W * rho * m, alpha_W * (1 - rho) * m,
                          a_H * rho * n, a_H * (1 - rho) * n)
    if solver == "auto":  # KL coordinate descent moves every component
        solver = auto_solver(loss, columns=not update_H
                             or fixed_components is None)
    if not update_H:
        return _codes_only(X, storage, W, H, n_components, loss, solver,
                           penalties, max_iter, tol)
    check_custom_factors(X, W, H, init)
    rank = _rank(X, W, H, n_components, init == "custom")
    init = init or default_init(rank, n, m)
    free = _free_rows(fixed_components, rank, init)
    root = float(np.sqrt(storage.scale))
    W0, H0 = initialize(storage.to_scipy(), rank, init,
                        check_random_state(random_state),
                        None if W is None else np.asarray(W) / root,
                        None if H is None else np.asarray(H) / root)
    if free is not None:  # the fixed rows as given, zeros included
        H0[~free] = (np.asarray(H, dtype=H0.dtype) / root)[~free]
    result = _problems.fit_plain(
        storage, W0, H0, loss, max_iter=max_iter, tol=tol, solver=solver,
        penalties=penalties.scaled(np.log2(storage.scale), loss.beta),
        free=free, verbose=verbose)
    return result.W, result.H, int(result.n_iter)


def _rank(X, W, H, n_components, custom):
    """The rank: given, from the custom factors, or ``n_features``."""
    if isinstance(n_components, Integral):
        return n_components
    if n_components == "auto" and custom:
        for F, axis in ((H, 0), (W, 1)):
            if F is not None and np.ndim(F) == 2:
                return np.shape(F)[axis]
    return X.shape[1]


def _free_rows(fixed_components, rank, init):
    """Boolean mask of the rows of H that are learned; None when all are."""
    if fixed_components is None:
        return None
    if init != "custom":
        raise ValueError(
            "fixed_components needs init='custom' and the components in H: "
            "there is nothing to keep fixed otherwise.")
    fixed = np.asarray(fixed_components)
    if fixed.dtype.kind not in "iu" or fixed.ndim != 1 or fixed.size == 0 \
            or fixed.min() < 0 or fixed.max() >= rank:
        raise ValueError(
            f"fixed_components must be indices of rows of H, between 0 and "
            f"{rank - 1}; got {fixed_components!r}.")
    free = np.ones(rank, dtype=bool)
    free[fixed] = False
    return free


def _codes_only(X, storage, W, H, n_components, loss, solver, penalties,
                max_iter, tol):
    """``update_H=False``: the codes of X with H fixed, each row on its own."""
    if H is None:
        raise ValueError("update_H=False needs the fixed components H.")
    if W is not None:
        warnings.warn("When update_H=False, the provided initial W is not "
                      "used: every sample's codes start from the same "
                      "constant.", RuntimeWarning, stacklevel=3)
    check_custom_factors(X, None, H, "custom")
    H = check_array(H, dtype=X.dtype, ensure_non_negative=True,
                    input_name="H")
    if H.shape[1] != X.shape[1] or (isinstance(n_components, Integral)
                                    and H.shape[0] != n_components):
        raise ValueError(
            f"H has shape {H.shape}; expected ({n_components}, "
            f"{X.shape[1]}) for n_components={n_components!r} and X with "
            f"{X.shape[1]} features.")
    observed = X.shape[0] * X.shape[1] - storage.missing.count
    total = float(storage.to_scipy().sum(dtype=np.float64)) * storage.scale
    mean = total / max(observed, 1)  # over the observed entries
    w0 = np.full(H.shape[0], np.sqrt(mean / H.shape[0]) or 1.0)
    W = _problems.solve_codes(storage, H, loss, w0, max_iter=max_iter,
                              tol=tol, solver=solver, l1=penalties.l1_W,
                              l2=penalties.l2_W)
    return W, H, max_iter

"""Rows solved with ``H`` fixed by the Frobenius rules, from ``X @ H.T`` alone.

With ``H`` fixed and no entry missing, all that the Frobenius rules need of
a row ``x`` is ``x @ H.T`` (and ``H @ H.T``, the same for every row). A
solve (``transform``, the codes of the graph methods, the components of a
fit from its codes) therefore computes ``X @ H.T`` once, a row at a time
(:func:`xh_dense`; for CSR ``X``, ``_graph.csr_times_dense`` with
``H.T``), and then runs the rule on each row (:func:`solve_fro_rows`), with
exactly the arithmetic of the pass kernels' one-row code: each row's result
depends on that row alone.

These kernels are small. The pass kernels (:mod:`._dense`, :mod:`._csr`),
which carry every rule, the statistics and the missing-entry paths, are
compiled only when a fit needs them: the default method's first run, which
solves rows of both storages and fits nothing by the passes, compiles
neither (measured: 39 s of compiling before, 14 s after).
"""

from ._common import chunk_bounds
from ._dense import _xh_row
from ._dispatch import N_SETTINGS, fro_rule_row, new_scratch
from ._jit import interruptible, kernel
from ._pool import over_chunks
from . import _rows as R


@kernel(nogil=True)
def _xh_dense(c0, c1, X, H, out):
    """Chunks ``c0 <= c < c1`` of :func:`xh_dense`."""
    n = X.shape[0]
    if out.shape[0] != n or out.shape[1] != H.shape[0] \
            or H.shape[1] != X.shape[1]:
        raise ValueError("xh_dense: X must be (n, m), H (k, m), out (n, k)")
    bounds = chunk_bounds(n)
    for c in range(c0, c1):
        for i in range(bounds[c], bounds[c + 1]):
            _xh_row(X[i], H, out[i])


_xh_dense_chunks = interruptible(_xh_dense)


def xh_dense(X, H, out):
    """``out = X @ H.T`` (n, k) in float64, row by row, for dense ``X`` (n, m)."""
    over_chunks(_xh_dense_chunks, X.shape[0], X, H, out)


@kernel(nogil=True)
def _solve_fro_rows(c0, c1, XHt, W, HHt, aux, aux_l2, done, rule, n_steps,
                    settings):
    """Chunks ``c0 <= c < c1`` of :func:`solve_fro_rows`."""
    n, k = W.shape
    if XHt.shape[0] != n or XHt.shape[1] != k or HHt.shape[0] != k \
            or HHt.shape[1] != k or settings.shape[0] != N_SETTINGS:
        raise ValueError("solve_fro_rows: XHt and W must be (n, k), HHt "
                         "(k, k), settings the passes' settings")
    if (aux.shape[0] and (aux.shape[0] != n or aux.shape[1] != k)) \
            or (aux_l2.shape[0] and aux_l2.shape[0] != n) \
            or (done.shape[0] and done.shape[0] != n):
        raise ValueError("solve_fro_rows: aux (n, k), aux_l2 and done (n,) "
                         "or empty")
    if rule != R.MU_FRO and rule != R.CD_FRO:
        raise ValueError("solve_fro_rows: the rule must be MU_FRO or CD_FRO")
    bounds = chunk_bounds(n)
    sc = new_scratch(k, 0, False, 0)
    xh = sc[0]
    for c in range(c0, c1):
        for i in range(bounds[c], bounds[c + 1]):
            if done.shape[0] and done[i]:
                continue
            for j in range(k):
                xh[0, j] = XHt[i, j]
            converged = fro_rule_row(rule, settings, n_steps, i, W, HHt, aux,
                                     aux_l2, sc)
            if done.shape[0]:
                done[i] = converged


_solve_fro_rows_chunks = interruptible(_solve_fro_rows)


def solve_fro_rows(XHt, W, HHt, aux, aux_l2, done, rule, n_steps, settings):
    """Apply the Frobenius ``rule`` to every row of ``W`` (n, k) in place.

    ``XHt`` (n, k) float64 is ``X @ H.T``; ``HHt`` (k, k) float64; ``aux``
    (n, k) and ``aux_l2`` (n,) the graph pull of each row (zero rows when
    unused); ``done`` (n,) as in the passes (rows that met the stopping test
    are skipped; empty: solve every row); ``rule`` is ``MU_FRO`` or
    ``CD_FRO``, ``settings`` as the passes take them.
    """
    over_chunks(_solve_fro_rows_chunks, W.shape[0], XHt, W, HHt, aux, aux_l2,
                done, rule, n_steps, settings)

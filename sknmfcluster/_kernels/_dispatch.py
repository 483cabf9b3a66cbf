"""What a pass takes besides arrays, and the per-row dispatch of every storage.

A pass is the same in every storage: for each row, apply the rule chosen by
an integer (see :mod:`._rows`) to the row of ``W``, then add the row's
statistics. This module holds the storage-independent pieces of that loop;
:mod:`._dense` and :mod:`._csr` hold the loops themselves.
"""

import numba
import numpy as np

from . import _masked as M
from . import _rows as R
from ._common import N_CHUNKS
from ._jit import kernel, nothing, routed
from ._rows import ROW_GROUP

#: Indices into the float64 ``settings`` array of a pass: the penalties on
#: the row, the stopping tolerance, beta and its MM exponent, the target
#: sparseness ratio and first step of the projected-gradient rules.
L1, L2, TOL, BETA, GAMMA, RATIO, STEP = range(7)
N_SETTINGS = 7

#: Bits of the ``mode`` of a pass. Without ``ACCUMULATE`` a pass only solves
#: the rows (``transform``): every row then goes through the one-row code,
#: so that its result never depends on its position in a batch.
ACCUMULATE = 1
#: Also sum the divergence terms (the costly logarithms of KL).
OBJECTIVE = 2
#: CSR only: leave out the statistics that are gathered afterwards from the
#: columns (see ``sknmfcluster._storage.Csr``).
GATHERED = 4


@kernel()
def is_gram_rule(rule):
    """Whether ``rule`` needs ``x @ H.T`` and accumulates ``W.T X``, ``W.T W``."""
    return rule == R.MU_FRO or rule == R.CD_FRO or rule == R.PG_FRO


@kernel()
def check_pass_shapes(n, m, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
                      miss_ptr, miss_idx, settings):
    """Raise ValueError unless the arrays of a pass fit an ``(n, m)`` X."""
    k = W.shape[1]
    if miss_ptr.shape[0] != 0 and (miss_ptr.shape[0] != n + 1
                                   or miss_ptr[n] != miss_idx.shape[0]):
        raise ValueError("pass: the missing entries do not fit X")
    if W.shape[0] != n:
        raise ValueError("pass: W must have one row per row of X")
    if H.shape[0] != k or H.shape[1] != m:
        raise ValueError("pass: H must have shape (W.shape[1], X.shape[1])")
    if Ht.shape[0] != m or Ht.shape[1] != k:
        raise ValueError("pass: Ht must have shape (X.shape[1], W.shape[1])")
    if HHt.shape[0] != k or HHt.shape[1] != k or Hsum.shape[0] != k:
        raise ValueError("pass: HHt must be (k, k) and Hsum (k,)")
    if (aux.shape[0] != 0 and aux.shape[0] != n) or aux.shape[1] != k:
        raise ValueError("pass: aux must be (n, k) or (0, k)")
    if aux_l2.shape[0] != 0 and aux_l2.shape[0] != n:
        raise ValueError("pass: aux_l2 must be (n,) or empty")
    if done.shape[0] != 0 and done.shape[0] != n:
        raise ValueError("pass: done must be (n,) or empty")
    if settings.shape[0] != N_SETTINGS:
        raise ValueError("pass: settings has the wrong length")


@kernel()
def new_scratch(k, m, masked, width):
    """Work space of one chunk of rows, allocated once per chunk.

    ``xh`` (ROW_GROUP, k): ``x @ H.T`` of the rows at hand; ``vec`` (3,
    max(k, ROW_GROUP)): the rules' small vectors; ``row`` (5, m): a dense
    row's non-zeros, its ``w @ H``, the beta rule's ratios and a sparse row
    spread out densely (float64, zero); ``col`` (m,): non-zero positions;
    ``wg`` (ROW_GROUP, k): rows swept by coordinate descent; ``pg`` and
    ``order``: projected-gradient work space; ``hm`` (k, m if ``masked``
    else 0): the columns of ``H`` at a row's missing (or observed) entries,
    contiguous (``width`` columns: ``m`` for masked rows, a row's non-zeros
    for the KL coordinate descent, else 0), and ``gram`` (k, k if
    ``masked``): a row's own Gram matrix. ``m`` is 0 when the rule needs no
    row-sized space. Rows with missing
    entries use ``row[1]`` and ``row[2]`` for their corrections, ``col`` for
    their observed columns and ``vec[2]`` for the row's own diagonal or row
    sums of ``H`` (which also mark the components the row does not see,
    ``_masked.UNSEEN``).
    """
    return (np.empty((ROW_GROUP, k)), np.empty((3, max(k, ROW_GROUP))),
            np.zeros((5, m)), np.empty(m, dtype=np.int64),
            np.empty((ROW_GROUP, k)), np.empty((R.PG_SCRATCH, k)),
            np.empty(k, dtype=np.int64),
            np.empty((k, width)),
            np.empty((k if masked else 0, k)))


@kernel()
def _graph_pull(xh, aux, aux_l2, i, l2):
    """Add a graph-regularised row's pull ``aux[i]`` to its ``x @ H.T``;
    return its l2 weight (``l2`` without a graph term)."""
    if aux_l2.shape[0] == 0:
        return l2
    for j in range(xh.shape[0]):
        xh[j] += aux[i, j]
    return l2 + aux_l2[i]


@kernel()
def fro_rule_row(rule, s, n_steps, i, W, HHt, aux, aux_l2, sc):
    """The Frobenius rules on fully observed row ``i`` of ``W``.

    Reads the row's ``x @ H.T`` from ``sc[0][0]`` (and adds the graph pull
    to it): all that the rules need of the row of X.
    """
    xh, vec, wg = sc[0], sc[1], sc[4]
    l2 = _graph_pull(xh[0], aux, aux_l2, i, s[L2])
    if rule == R.MU_FRO:
        return R.mu_fro_row(xh[0], W[i], HHt, s[L1], l2, n_steps, s[TOL],
                            vec[0])
    return R.cd_rows(xh, W, i, 1, HHt, s[L1], l2, n_steps, s[TOL], wg,
                     vec[0])


@kernel()
def _fro_rule(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum, aux,
              aux_l2, val, col, x_dense, mc, sc):
    """The Frobenius rules on a fully observed row (:func:`fro_rule_row`)."""
    return fro_rule_row(rule, s, n_steps, i, W, HHt, aux, aux_l2, sc)


@kernel()
def _fro_rule_masked(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum,
                     aux, aux_l2, val, col, x_dense, mc, sc):
    """The Frobenius rules on a row that may have missing entries."""
    xh, vec, row, oc, wg, pg, order, hm, gram = sc
    nm = mc.shape[0]
    if not nm:
        return _fro_rule(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum,
                         aux, aux_l2, val, col, x_dense, mc, sc)
    l1, tol = s[L1], s[TOL]
    k = w.shape[0]
    l2 = _graph_pull(xh[0], aux, aux_l2, i, s[L2])
    path = masked_path(k, nm, Ht.shape[0], n_steps)
    curv, whm = vec[2], row[1]
    if path == OBSERVED_PATH:
        count = M.observed_columns(Ht.shape[0], mc, oc)
        M.gather_columns(Ht, oc[:count], hm)
        if rule == R.MU_FRO:
            return M.mu_fro_row_observed(xh[0], w, HHt, hm, count, l1, l2,
                                         n_steps, tol, vec[0], row[2], curv)
        return M.cd_row_observed(x_dense, w, HHt, hm, oc[:count], l1, l2,
                                 n_steps, tol, row[2], curv)
    G, n_corrected = HHt, nm
    if path == GRAM_PATH:
        M.gram_observed(w, Ht, HHt, mc, hm, gram, curv)
        G, n_corrected = gram, 0
    else:
        M.prepare_missing(w, Ht, HHt, mc, hm, curv, whm)
    if rule == R.MU_FRO:
        return M.mu_fro_row_masked(xh[0], w, G, hm, n_corrected, curv, l1,
                                   l2, n_steps, tol, vec[0], whm)
    return M.cd_row_masked(xh[0], w, G, hm, n_corrected, curv, l1, l2,
                           n_steps, tol, whm)


@kernel()
def _mu_kl(val, col, w, Ht, hsum, s, n_steps, sc):
    """The multiplicative KL rule on a row's non-zeros ``val``/``col``."""
    vec = sc[1]
    return R.mu_kl_row(val, col, w, Ht, hsum, s[L1], s[L2], n_steps, s[TOL],
                       vec[0], vec[1])


@kernel()
def _cd_kl(val, col, w, Ht, hsum, s, n_steps, sc):
    """KL coordinate descent on a row's non-zeros (``hm`` receives H there)."""
    row = sc[2]
    return R.cd_kl_row(val, col, w, Ht, hsum, s[L1], s[L2], n_steps, s[TOL],
                       sc[7], row[1], row[2])




@kernel()
def _kl_hsum(w, Ht, Hsum, mc, sc):
    """Row sums of H over a row's observed columns (``Hsum`` if none missing).

    A component the row does not see gets the code 0.
    """
    vec, hm = sc[1], sc[7]
    k = w.shape[0]
    nm = mc.shape[0]
    hsum = Hsum
    if nm:  # H at the missing columns, for the rule's sums
        M.gather_columns(Ht, mc, hm)
        M.observed_hsum(Hsum, hm, nm, vec[2])
        hsum = vec[2][:k]
        M.zero_unseen(w, hsum)
    return hsum


@kernel()
def _kl_rule(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum, aux,
             aux_l2, val, col, x_dense, mc, sc):
    """The multiplicative KL rule, over the observed entries (``mc`` missing)."""
    hsum = _kl_hsum(w, Ht, Hsum, mc, sc)
    return _mu_kl(val, col, w, Ht, hsum, s, n_steps, sc)


@kernel()
def _kl_cd_rule(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum, aux,
                aux_l2, val, col, x_dense, mc, sc):
    """KL coordinate descent, over the observed entries (``mc`` missing)."""
    hsum = _kl_hsum(w, Ht, Hsum, mc, sc)
    return _cd_kl(val, col, w, Ht, hsum, s, n_steps, sc)


@kernel()
def _beta_rule(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum, aux,
               aux_l2, val, col, x_dense, mc, sc):
    """The beta rule; over the observed entries when ``mc`` is not empty."""
    vec, row, hm = sc[1], sc[2], sc[7]
    nm = mc.shape[0]
    if nm:  # its sums run over the observed entries: only the components
        # the row does not see need a decision (0, as for KL)
        M.gather_columns(Ht, mc, hm)
        M.observed_hsum(Hsum, hm, nm, vec[2])
        M.zero_unseen(w, vec[2][:w.shape[0]])
    return R.mu_beta_row(x_dense, w, H, s[BETA], s[GAMMA], s[L1], s[L2],
                         n_steps, s[TOL], row[1], row[2], row[3], vec[0], mc)


@kernel()
def _pg_rule(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum, aux,
             aux_l2, val, col, x_dense, mc, sc):
    """The projected-gradient rules (no missing entries)."""
    xh, pg, order = sc[0], sc[5], sc[6]
    if mc.shape[0]:
        raise ValueError("the projected-gradient rules take no missing values")
    return R.pg_row(rule == R.PG_KL, xh[0], HHt, val, col, Ht, Hsum, w,
                    aux[i], s[RATIO], s[L1], s[L2], s[STEP], n_steps, s[TOL],
                    pg, order)


#: The families of rules a pass is compiled for: the code of a pass is
#: compiled once per family (the Frobenius family once more with the
#: missing-entry paths), never for every rule at once (see
#: :func:`compiled_for`).
#: KL coordinate descent is a family of its own: its safeguarded Newton code
#: is about 4 s of a KL pass's compile, which a multiplicative fit never runs.
FRO_FAMILY, KL_FAMILY, BETA_FAMILY, PG_FAMILY, KL_CD_FAMILY = range(5)
_FAMILY = {R.MU_FRO: FRO_FAMILY, R.CD_FRO: FRO_FAMILY, R.MU_KL: KL_FAMILY,
           R.CD_KL: KL_CD_FAMILY, R.MU_BETA: BETA_FAMILY, R.PG_FRO: PG_FAMILY,
           R.PG_KL: PG_FAMILY}


#: Added to the family of a pass that fits nothing (no ``ACCUMULATE`` in its
#: mode: a solve, or a coordinate-descent pass of KL): its statistics code
#: is not compiled in (see :func:`by_family`).
SOLVING = 5


def compiled_for(rule, miss_ptr, mode=ACCUMULATE):
    """``(family, masked)``: the literal arguments that pick a pass's code.

    The pass kernels hold them as constants of their closure (one kernel
    per key, ``_dense._pass_dense_for``), which Numba types as literals, so
    that a fit compiles its rule family's code alone: compiling every rule
    into one pass took minutes on a first run. (Not Numba's ``literally``
    on an argument: a call from Python then compiles again, and fails, on
    every call, about 30 ms each.)
    ``masked`` says whether the missing-entry paths are compiled in. Only
    the Frobenius family has two versions, because its missing-entry paths
    are most of its code; the KL and beta rules' are small and always in
    (one version each to compile, not two), and the projected-gradient
    rules take no missing values (they raise). For a ``mode`` without
    ``ACCUMULATE`` the family is offset by :data:`SOLVING`.
    """
    try:
        family = _FAMILY[int(rule)]
    except KeyError:
        raise ValueError(f"pass: unknown rule {rule!r}") from None
    masked = bool(miss_ptr.shape[0] > 0) if family == FRO_FAMILY \
        else family != PG_FAMILY
    return family + (0 if mode & ACCUMULATE else SOLVING), masked


#: The pass kernels that have run in this process: ``(storage, family,
#: masked)`` and the Numba types of the arrays that pick a compiled version.
_PASSES_RUN = set()


def pass_key(storage, rule, miss_ptr, mode, *arrays):
    """The compiled version of ``storage``'s pass to run: ``(family, masked)``.

    As :func:`compiled_for`, except that a pass fitting nothing takes the
    fitting version where that one has already run in this process on
    arrays of these types (it solves as well, and is compiled). Call
    :func:`record_pass` with the key once the pass has run.
    """
    key = compiled_for(rule, miss_ptr, mode)
    fitting = compiled_for(rule, miss_ptr)
    if key != fitting and _recorded(storage, fitting, arrays) in _PASSES_RUN:
        return fitting
    return key


def _recorded(storage, key, arrays):
    return (storage,) + key + tuple(numba.typeof(a) for a in arrays)


def record_pass(storage, key, *arrays):
    """Note that ``storage``'s pass ``key`` ran with these arrays' types."""
    _PASSES_RUN.add(_recorded(storage, key, arrays))


def pass_has_run(storage, rule, miss_ptr, *arrays):
    """Whether a version of that pass ran on arrays of these types.

    Then its kernel is compiled in this process, and a solve that could do
    without it (``_solve``) may use it at no compile cost.
    """
    return any(_recorded(storage, compiled_for(rule, miss_ptr, mode), arrays)
               in _PASSES_RUN for mode in (0, ACCUMULATE))


def by_family(fro, kl, beta, pg, solving=None, kl_cd=None):
    """For :func:`._jit.routed`: the kernel of each family of rules.

    The family must be a compile-time constant (the pass kernels' closures
    make it one); a kernel that passed an ordinary integer would otherwise
    compile every family, the cost this dispatch exists to avoid. A pass
    that fits nothing (a family offset by :data:`SOLVING`) gets ``solving``
    where given (``nothing`` for the statistics), else its family's kernel.
    KL coordinate descent gets ``kl_cd`` where given, else ``kl``.
    """
    table = {FRO_FAMILY: fro, KL_FAMILY: kl, BETA_FAMILY: beta, PG_FAMILY: pg,
             KL_CD_FAMILY: kl if kl_cd is None else kl_cd}

    def choose(family):
        if not isinstance(family, int) or family % SOLVING not in table \
                or not 0 <= family < 2 * SOLVING:
            raise TypeError("a routed call needs its rule family as a "
                            f"compile-time constant, got {family!r}")
        if family >= SOLVING and solving is not None:
            return solving
        return table[family % SOLVING]
    return choose


kl_row = routed(
    by_family(nothing, _mu_kl, nothing, nothing, kl_cd=_cd_kl), "kl_row", """\
kl_row(family, val, col, w, Ht, hsum, s, n_steps, sc)

The KL rule of ``family`` (a compile-time constant): multiplicative for the
KL family, coordinate descent for ``KL_CD_FAMILY``; only that rule is
compiled.
""")


def _rule_code(family, masked):
    fro = _fro_rule if masked is False else _fro_rule_masked
    return by_family(fro, _kl_rule, _beta_rule, _pg_rule,
                     kl_cd=_kl_cd_rule)(family)


apply_rule = routed(_rule_code, "apply_rule", """\
apply_rule(family, masked, rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum,
aux, aux_l2, val, col, x_dense, mc, sc)

Apply ``rule`` to row ``i`` of ``W`` (``w = W[i]``); return convergence.

Callable from kernels only: the code compiled for a call is the rule
family's alone (:func:`_fro_rule` ... :func:`_pg_rule`), without the
missing-entry paths unless ``masked`` (see :func:`compiled_for`). The row of
X is given as its non-zeros ``val``/``col`` and densely as ``x_dense`` (for
the beta rule, and for coordinate descent on a mostly missing row); for the
Frobenius rules ``sc[0][0]`` must hold its ``x @ H.T``. ``mc`` holds the
row's missing columns (sorted; empty for a fully observed row, which goes
through the unmasked code). The scratch ``hm`` of ``sc`` holds ``H[:, mc]``
on return where :func:`gathers_missing` says so. ``aux`` is per rule: the
graph pull ``strength * (S W)[i]`` of the Frobenius rules (with ``aux_l2``
the matching extra l2 weight), the candidate rows of the projected-gradient
rules; zero rows when unused.
""", keys=2)


#: How the Frobenius rules treat a row with missing entries (see
#: :func:`masked_path`): from its observed columns, from its own Gram
#: matrix, or by correcting ``H H.T`` at its missing columns in every sweep.
OBSERVED_PATH, GRAM_PATH, CORRECTED_PATH = range(3)


@kernel()
def masked_path(k, nm, m, n_steps):
    """The cheapest way to solve a row with ``nm`` of its ``m`` entries missing.

    Costs in multiply-adds over gathered columns of ``H``, divided by the
    rank ``k``: from the ``no = m - nm`` observed columns, gathering them,
    the curvature, ``w @ H_o`` and ``2 no`` per step (``no (3 + 2
    n_steps)``); the row's Gram matrix, ``k nm / 2`` once and ``k`` per
    step after the gather; the corrections, ``2 nm + k`` per step after
    the gather.
    """
    no = m - nm
    observed = no * (3 + 2 * n_steps)
    gram = nm * (1 + k // 2) + n_steps * k
    corrected = nm * (1 + 2 * n_steps) + n_steps * k
    if observed < min(gram, corrected):
        return OBSERVED_PATH
    return GRAM_PATH if gram < corrected else CORRECTED_PATH


@kernel()
def gathers_missing(rule, k, nm, m, n_steps):
    """Whether :func:`apply_rule` leaves ``H[:, mc]`` in the scratch ``hm``.

    Every rule does for a row with missing entries, except the Frobenius
    rules when they work from the observed columns (:func:`masked_path`)
    and the KL coordinate descent (which reuses ``hm`` for the row's
    non-zero columns).
    """
    if nm == 0 or rule == R.CD_KL:
        return False
    if rule == R.MU_FRO or rule == R.CD_FRO:
        return masked_path(k, nm, m, n_steps) != OBSERVED_PATH
    return True


@kernel()
def _missing_share(rule, n_steps, w, Ht, mc, kl, Ct, B, sc):
    """Add the missing entries' share of row ``w`` after :func:`apply_rule`.

    :func:`._masked.accumulate_missing`, from the columns ``apply_rule``
    left in the scratch where it gathered them. A Frobenius row solved from
    its observed columns (mostly missing, :func:`masked_path`) instead
    takes itself out of ``B`` and adds its observed entries' share
    (:func:`._masked.accumulate_observed`), where ``B`` is given (the caller
    adds ``outer(w, w)`` to it for this row; empty otherwise). Returns the
    row's share of the objective.
    """
    k, nm, m = w.shape[0], mc.shape[0], Ht.shape[0]
    if B.shape[0] and (rule == R.MU_FRO or rule == R.CD_FRO) \
            and masked_path(k, nm, m, n_steps) == OBSERVED_PATH:
        # apply_rule left the observed columns in ``col`` and H there in hm
        return M.accumulate_observed(w, sc[7], sc[3][:m - nm], Ct, B,
                                     sc[2][1])
    gathered = gathers_missing(rule, k, nm, m, n_steps)
    return M.accumulate_missing(w, Ht, mc, kl, Ct, sc[7], gathered, sc[2][1])


missing_share = routed(
    lambda masked: nothing if masked is False else _missing_share,
    "missing_share", """\
missing_share(masked, rule, n_steps, w, Ht, mc, kl, Ct, B, sc)

:func:`_missing_share` where ``masked``; nothing is compiled for a pass
without missing entries.
""")


@kernel()
def row_missing(miss_ptr, miss_idx, i):
    """The sorted missing columns of row ``i`` (empty without missing entries)."""
    if miss_ptr.shape[0] == 0:
        return miss_idx[:0]
    return miss_idx[miss_ptr[i]:miss_ptr[i + 1]]


@kernel()
def stat_parts(accumulate, rule, k, m, proto, transposed, masked):
    """Per-chunk accumulators of a pass: ``(A, B, Nt, Dt, v, Ct)`` parts.

    Frobenius rules: ``A = W.T X`` (k, m) in X's dtype, or ``At = X.T W``
    (m, k) when ``transposed``, and ``B = W.T W``;
    KL and beta rules: ``Nt`` (m, k), the numerator of the H update, the
    beta rule's denominator ``Dt`` (m, k) and ``v = W.sum(axis=0)`` as (1,
    k); with missing entries, ``Ct`` (m, k), the missing entries' share of
    the denominator (see ``_masked.accumulate_missing``). Unused
    accumulators are (N_CHUNKS, 0, 0). ``A`` takes the dtype of the array
    ``proto``.
    """
    gram = is_gram_rule(rule)
    a = accumulate and gram
    r = accumulate and not gram
    d = accumulate and rule == R.MU_BETA
    rows, cols = (m, k) if transposed else (k, m)
    A = np.zeros((N_CHUNKS, rows if a else 0, cols if a else 0),
                 dtype=proto.dtype)
    B = np.zeros((N_CHUNKS, k if a else 0, k if a else 0))
    Nt = np.zeros((N_CHUNKS, m if r else 0, k if r else 0))
    Dt = np.zeros((N_CHUNKS, m if d else 0, k if d else 0))
    v = np.zeros((N_CHUNKS, 1 if r else 0, k if r else 0))
    c = accumulate and masked and rule != R.MU_BETA
    Ct = np.zeros((N_CHUNKS, m if c else 0, k if c else 0))
    return A, B, Nt, Dt, v, Ct

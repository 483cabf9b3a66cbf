"""Numba kernels: arrays and scalars in, arrays written in place or returned.

No estimator, no string and no scipy object ever reaches a kernel. Every
kernel is compiled once, lazily, and cached on disk (:mod:`._jit`). The
modules, in the direction of their imports:

- :mod:`._common`: constants, chunking, dot products, the safe divergences.
- :mod:`._hoyer`: Hoyer's sparseness and the projections onto it.
- :mod:`._rows`: the per-row rules (multiplicative, coordinate descent,
  beta-divergence, projected gradient) and the per-row statistics.
- :mod:`._masked`: the same rules over the observed entries of rows with
  missing values.
- :mod:`._dispatch`: what a pass takes besides arrays, and the per-row
  dispatch by an integer rule.
- :mod:`._dense`, :mod:`._csr`: the one pass loop of each storage and its
  objective kernels.
- :mod:`._solve`: rows solved by the Frobenius rules from ``X @ H.T``, without
  the passes.
- :mod:`._graph`: symmetric NMF and products with the sparse graph.
"""

from ._common import EPSILON, N_CHUNKS, chunk_bounds, ordered_sum
from ._csr import (divergence_csr, gather_gram_csr, gather_kl_csr,
                   missing_terms, nonzero_terms_csr, pass_csr,
                   pass_csr_has_run)
from ._dense import (divergence_dense, pass_dense, pass_dense_has_run,
                     solve_gram_rows, sq_norm_dense)
from ._dispatch import (ACCUMULATE, BETA, GAMMA, GATHERED, L1, L2,
                        N_SETTINGS, OBJECTIVE, RATIO, STEP, TOL)
from ._graph import csr_times_dense, symnmf_stats, symnmf_update
from ._masked import UNSEEN
from ._rows import CD_FRO, CD_KL, MU_BETA, MU_FRO, MU_KL, PG_FRO, PG_KL
from ._solve import solve_fro_rows, xh_dense

__all__ = [
    "ACCUMULATE", "BETA", "CD_FRO", "CD_KL", "EPSILON", "GAMMA", "GATHERED", "L1",
    "L2", "MU_BETA", "MU_FRO", "MU_KL", "N_CHUNKS", "N_SETTINGS", "OBJECTIVE",
    "PG_FRO", "PG_KL", "RATIO", "STEP", "TOL", "chunk_bounds",
    "csr_times_dense", "divergence_csr", "divergence_dense",
    "gather_gram_csr", "gather_kl_csr", "missing_terms", "nonzero_terms_csr",
    "ordered_sum",
    "pass_csr", "pass_csr_has_run", "pass_dense", "pass_dense_has_run",
    "solve_fro_rows", "solve_gram_rows",
    "sq_norm_dense", "symnmf_stats", "symnmf_update", "UNSEEN", "xh_dense",
]

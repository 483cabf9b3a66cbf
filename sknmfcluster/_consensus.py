"""Consensus of several clusterings, without an n_samples x n_samples matrix.

The consensus matrix of Monti et al. (2003) and Brunet et al. (2004) is
``C[i, j]`` = the fraction of runs that put samples ``i`` and ``j`` in the
same cluster. Its summaries are computed here from the label vectors:

- the dispersion (Kim & Park 2007) exactly, from the contingency tables of
  the pairs of runs (``sum C^2`` is the sum of their squared counts), in
  ``O(n_runs^2 n_samples)``;
- the proportion of ambiguous clustering (PAC, Senbabaoglu et al. 2014)
  exactly over all pairs up to ``max_samples`` samples, and above that from
  independent random pairs, a binomial proportion whose standard error is
  reported;
- the cophenetic correlation (Brunet et al.) from the average-linkage tree of
  ``1 - C``, on all samples up to ``max_samples`` and on a random subsample
  of ``max_samples`` above that;
- consensus labels by cutting that tree, extended to the samples outside
  the subsample by their mean co-clustering with each consensus cluster,
  which needs only per-run counts of labels in each cluster.
"""

import numpy as np
from scipy.cluster.hierarchy import cophenet, fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.utils import check_random_state

#: Consensus values in ``(AMBIGUOUS[0], AMBIGUOUS[1]]`` count as ambiguous in
#: the PAC, Senbabaoglu et al.'s thresholds.
AMBIGUOUS = (0.1, 0.9)
#: Largest number of samples whose pairwise consensus is formed in full (a
#: float64 matrix of ``MAX_SAMPLES^2`` entries, 32 MB).
MAX_SAMPLES = 2000
#: Random pairs drawn for the PAC above ``max_samples`` samples: its standard
#: error is at most ``0.5 / sqrt(N_PAIRS)`` = 0.0005.
N_PAIRS = 1_000_000


def canonical_labels(label_runs):
    """Labels of each run renumbered ``0..c-1``; ``-1`` becomes a singleton.

    A sample a run puts in no cluster (label ``-1``) is co-clustered with no
    other sample in that run, not with the other unassigned samples.
    """
    runs = np.asarray(label_runs)
    if runs.ndim != 2 or runs.shape[0] < 1 or runs.shape[1] < 2:
        raise ValueError(
            "label_runs must be of shape (n_runs, n_samples) with at least "
            f"one run and two samples; got shape {runs.shape}.")
    out = np.empty(runs.shape, dtype=np.int64)
    for r, labels in enumerate(runs):
        _, inverse = np.unique(labels, return_inverse=True)
        lonely = np.flatnonzero(labels == -1)
        inverse = inverse.astype(np.int64)
        inverse[lonely] = inverse.max() + 1 + np.arange(lonely.size)
        _, out[r] = np.unique(inverse, return_inverse=True)
    return out


def dispersion(runs):
    """``mean(4 (C - 1/2)^2)`` over all ordered pairs (diagonal included)."""
    R, n = runs.shape
    sizes = [np.bincount(labels) for labels in runs]
    sum_c = sum(float(s @ s) for s in sizes) / R
    sum_c2 = 0.0
    for r in range(R):
        for s in range(r, R):
            table = np.bincount(runs[r] * sizes[s].size + runs[s])
            sum_c2 += (1.0 if r == s else 2.0) * float(table @ table)
    sum_c2 /= R * R
    return (4.0 * sum_c2 - 4.0 * sum_c + n * n) / (n * n)


def co_clustered(runs, idx):
    """Dense consensus ``C`` of the samples ``idx`` (float64)."""
    counts = np.zeros((idx.size, idx.size), dtype=np.int32)
    for labels in runs[:, idx]:
        counts += labels[:, None] == labels[None, :]
    return counts / runs.shape[0]


def pac_of(values, n_runs, ambiguous=AMBIGUOUS):
    """Fraction of consensus values in ``(low, high]``.

    The values are multiples of ``1 / n_runs``; they are compared as counts
    of runs, so that a value equal to a threshold is never misplaced by
    rounding.
    """
    counts = np.rint(np.asarray(values) * n_runs)
    low, high = (t * n_runs + 1e-9 for t in ambiguous)
    return float(np.mean((counts > low) & (counts <= high)))


def random_pairs_pac(runs, n_pairs, rng, ambiguous=AMBIGUOUS):
    """PAC over ``n_pairs`` independent random pairs ``i != j``, and its SE."""
    n = runs.shape[1]
    i = rng.randint(n, size=n_pairs)
    j = (i + rng.randint(1, n, size=n_pairs)) % n  # uniform over j != i
    together = np.zeros(n_pairs)
    for labels in runs:
        together += labels[i] == labels[j]
    pac = pac_of(together / runs.shape[0], runs.shape[0], ambiguous)
    return pac, float(np.sqrt(pac * (1.0 - pac) / n_pairs))


def tree_statistics(C, n_clusters):
    """Cophenetic correlation of ``1 - C`` and its average-linkage cut."""
    d = squareform(1.0 - C, checks=False)
    Z = linkage(d, method="average")
    # Constant distances (every pair always or never together, e.g. one
    # cluster): the tree reproduces them exactly.
    cophenetic = 1.0 if np.ptp(d) == 0 else float(cophenet(Z, d)[0])
    labels = fcluster(Z, n_clusters, criterion="maxclust") - 1
    return cophenetic, labels.astype(np.int64)


def extend_labels(runs, idx, labels_idx):
    """Consensus cluster of every sample from that of the samples ``idx``.

    A sample goes to the cluster whose members (among ``idx``) it is
    co-clustered with most often on average. Per run, the counts of each
    label within each consensus cluster are all that is needed: no pairwise
    matrix.
    """
    n_clusters = int(labels_idx.max()) + 1
    members = np.bincount(labels_idx, minlength=n_clusters).astype(np.float64)
    score = np.zeros((n_clusters, runs.shape[1]))
    for labels in runs:
        counts = np.zeros((n_clusters, int(labels.max()) + 1))
        np.add.at(counts, (labels_idx, labels[idx]), 1.0)
        score += counts[:, labels]
    labels = np.argmax(score / np.maximum(members, 1.0)[:, None], axis=0)
    labels[idx] = labels_idx
    return labels.astype(np.int64)


def summarize(label_runs, n_clusters, *, max_samples=MAX_SAMPLES,
              n_pairs=N_PAIRS, random_state=None):
    """All statistics of :class:`~sknmfcluster.model_selection.Consensus`."""
    runs = canonical_labels(label_runs)
    rng = check_random_state(random_state)
    n = runs.shape[1]
    exact = n <= max_samples
    idx = (np.arange(n) if exact
           else np.sort(rng.choice(n, size=max_samples, replace=False)))
    C = co_clustered(runs, idx)
    cophenetic, cut = tree_statistics(C, n_clusters)
    if exact:
        pac, pac_se = pac_of(squareform(C, checks=False), runs.shape[0]), 0.0
        labels = cut
    else:
        pac, pac_se = random_pairs_pac(runs, n_pairs, rng)
        labels = extend_labels(runs, idx, cut)
    return {"runs": runs, "cophenetic": cophenetic,
            "dispersion": dispersion(runs), "pac": pac, "pac_se": pac_se,
            "labels": labels, "sample": idx, "exact": exact}

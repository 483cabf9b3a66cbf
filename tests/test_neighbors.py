"""The neighbour graph (exact and NN-descent indexes) and the spectral start."""

import pickle

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from sknmfcluster import (NMFClusterer, _neighbor_kernels, _neighbors,
                          _spectral, _storage)
from sknmfcluster.metrics import clustering_accuracy

from .conftest import affinity, low_rank


def planted(n=3000, m=24, n_blobs=6, seed=0, dtype=np.float64):
    """Non-negative blobs with a continuous spread: neighbours are not trivial."""
    rng = np.random.RandomState(seed)
    centres = rng.rand(n_blobs, m) * 4
    X = centres[rng.randint(n_blobs, size=n)] + rng.rand(n, m)
    return X.astype(dtype)


def exact_rows(X, Q, k):
    """The oracle: scikit-learn's exact k nearest training rows of each query."""
    return NearestNeighbors(n_neighbors=k).fit(X).kneighbors(
        Q, return_distance=False)


def recall(G, truth):
    """Share of the true neighbours that the binary graph rows ``G`` hold."""
    rows = np.repeat(np.arange(truth.shape[0]), truth.shape[1])
    return float(np.asarray(G[rows, truth.ravel()]).mean())


# -- distances ---------------------------------------------------------------
def test_distances_dense_and_csr_agree_bit_for_bit():
    X = low_rank(n=30, m=9).astype(np.float32)
    cand = np.random.RandomState(0).randint(30, size=(30, 6))
    dense, csr = np.empty(cand.shape), np.empty(cand.shape)
    _neighbor_kernels.sq_distances_dense(X, X, cand, dense)
    Xs = sp.csr_matrix(X)
    _neighbor_kernels.sq_distances_csr(Xs.data, Xs.indices, Xs.indptr, Xs.data,
                                    Xs.indices, Xs.indptr, cand, csr)
    np.testing.assert_array_equal(dense, csr)
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(
        dense, ((X64[:, None, :] - X64[cand]) ** 2).sum(axis=-1), rtol=1e-12)




def test_fast_candidate_distance_matches_numpy():
    X = low_rank(n=20, m=37).astype(np.float32)
    expected = ((X[3].astype(np.float64) - X[7]) ** 2).sum()
    assert _neighbor_kernels._fast_dist(X[3], X[7]) == pytest.approx(
        expected, rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_join_tile_matches_numpy_and_ignores_the_slot(dtype):
    # the join's distances come four rows against two at a time: each must
    # be the squared distance, and the same number in whichever slot of
    # the tile its pair lands (a pair is met in many tiles during a build)
    X = low_rank(n=12, m=37).astype(dtype)
    out = np.empty(8)
    _neighbor_kernels._tile_4x2(X[0], X[1], X[2], X[3], X[4], X[5], out)
    X64 = X.astype(np.float64)
    expected = ((X64[:4, None, :] - X64[None, 4:6]) ** 2).sum(-1).ravel()
    np.testing.assert_allclose(out, expected,
                               rtol=1e-5 if dtype == np.float32 else 1e-12)
    for a in range(4):
        for b in range(2):
            rows = [X[6 + (a + r) % 4] for r in range(4)]
            rows[a] = X[a]
            cols = [X[8], X[9]]
            cols[b] = X[4 + b]
            moved = np.empty(8)
            _neighbor_kernels._tile_4x2(*rows, *cols, moved)
            assert moved[2 * a + b] == out[2 * a + b]
            # and whichever of the pair is the row, whichever the column
            _neighbor_kernels._tile_4x2(X[4 + b], X[6], X[7], X[8], X[a],
                                        X[9], moved)
            assert moved[0] == out[2 * a + b]


# -- the graph ---------------------------------------------------------------
def test_graph_is_sparse_symmetric_and_normalised(digits):
    X, _ = digits
    A, _ = affinity(X)
    assert sp.issparse(A) and A.format == "csr"
    assert A.nnz <= 2 * 10 * X.shape[0]
    assert abs(A - A.T).max() < 1e-12
    # D^-1/2 S D^-1/2 has its largest eigenvalue at 1, eigenvector sqrt(d)
    Xp = _storage.prepare(X)
    S, d = _neighbors.training_graph(_neighbors.fit_neighbors(Xp, 10), Xp, np.float64)
    np.testing.assert_allclose(A @ np.sqrt(d), np.sqrt(d), rtol=1e-10)


def test_ties_are_broken_by_index_whatever_the_storage_or_batch(digits):
    X, _ = digits  # integer pixels: many exact ties at the 10th neighbour
    nbrs = _neighbors.fit_neighbors(_storage.prepare(X), 10)
    full = _neighbors.query_graph(nbrs, _storage.prepare(X), np.float64)
    csr = _neighbors.query_graph(nbrs, _storage.prepare(sp.csr_matrix(X)),
                             np.float64)
    alone = _neighbors.query_graph(nbrs, _storage.prepare(X[100:101]), np.float64)
    assert (full != csr).nnz == 0
    assert (full[100] != alone).nnz == 0
    assert full[5, 5] == 1  # each training sample is its own neighbour




def test_auto_is_exact_below_the_threshold_and_nndescent_above():
    choose = _neighbors.choose_method
    assert choose("auto", _neighbors.APPROXIMATE_FROM - 1, 10) == "exact"
    assert choose("auto", _neighbors.APPROXIMATE_FROM, 10) == "nndescent"
    assert choose("nndescent", 5000, 10) == "nndescent"
    assert choose("exact", 10**6, 10) == "exact"
    # too few samples for rows of 2 * n_neighbors candidates: exact anyway
    assert choose("nndescent", 50, 10) == "exact"


# -- NN-descent ------------------------------------------------------------------
@pytest.fixture(scope="module")
def nnd():
    X = planted()
    train, new = X[:2500], X[2500:]
    nbrs = _neighbors.fit_neighbors(_storage.prepare(train), 10,
                                    method="nndescent", random_state=0)
    return train, new, nbrs


def test_nndescent_finds_nearly_all_true_neighbours(nnd):
    train, new, nbrs = nnd
    assert nbrs.method == "nndescent"
    G = _neighbors.query_graph(nbrs, nbrs.X, np.float64)
    assert G.shape == (2500, 2500) and np.all(np.diff(G.indptr) == 10)
    assert np.all(G.diagonal() == 1)  # each sample is its own neighbour
    # measured 0.9995 for the training graph and 0.998 for new samples
    assert recall(G, exact_rows(train, train, 10)) > 0.99
    Gq = _neighbors.query_graph(nbrs, _storage.prepare(new), np.float64)
    assert recall(Gq, exact_rows(train, new, 10)) > 0.98


def test_nndescent_query_of_a_row_alone_equals_the_batch(nnd):
    train, new, nbrs = nnd
    batch = _neighbors.query_graph(nbrs, _storage.prepare(new), np.float64)
    for i in (0, 17, 499):
        alone = _neighbors.query_graph(nbrs, _storage.prepare(new[i:i + 1]),
                                       np.float64)
        assert (batch[i] != alone).nnz == 0
    reverse = _neighbors.query_graph(nbrs, _storage.prepare(new[::-1].copy()),
                                     np.float64)
    assert (batch != reverse[::-1]).nnz == 0


def test_nndescent_is_reproducible_and_ignores_the_thread_count(nnd,
                                                                monkeypatch):
    train, _, nbrs = nnd
    before = numba.get_num_threads()
    graphs = []
    try:
        for threads in (1, before):
            numba.set_num_threads(threads)
            again = _neighbors.fit_neighbors(
                _storage.prepare(train), 10, method="nndescent", random_state=0)
            graphs.append(again.graph)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(graphs[0], nbrs.graph)
    np.testing.assert_array_equal(graphs[1], nbrs.graph)
    other = _neighbors.fit_neighbors(_storage.prepare(train), 10,
                                     method="nndescent", random_state=1)
    assert not np.array_equal(other.graph, nbrs.graph)  # the seed is used


def test_nndescent_candidate_lists_keep_the_smallest_priorities():
    """The parallel candidate lists, against the definition: each point's new
    (old) list holds the ``cap`` points of smallest hash priority among the
    ends of its new (old) edges, in both directions; a new edge that made it
    into its own row's list is flagged old."""
    K = _neighbor_kernels
    rng = np.random.RandomState(0)
    n, c, cap, seed, it = 60, 6, 4, 7, 3
    ind = np.empty((n, c), dtype=np.int32)
    for u in range(n):
        others = rng.choice(np.delete(np.arange(n), u), c - 1, replace=False)
        ind[u] = np.r_[u, others]
    flag = rng.rand(n, c) < 0.5
    offered = {True: [{} for _ in range(n)], False: [{} for _ in range(n)]}
    for u in range(n):
        for j in range(c):
            v = int(ind[u, j])
            if v != u:
                p = int(K._hash(seed, it, min(u, v), max(u, v)))
                offered[bool(flag[u, j])][u][v] = p
                offered[bool(flag[u, j])][v][u] = p
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, before}):
            numba.set_num_threads(threads)
            lists = [np.empty((n, cap), dtype=np.int32) for _ in range(2)]
            counts = [np.empty(n, dtype=np.int64) for _ in range(2)]
            got = flag.copy()
            K.nnd_sample(ind, got, cap, seed, it, lists[0], counts[0], lists[1],
                         counts[1], *(np.empty((n, cap), dtype=np.uint64)
                                      for _ in range(2)))
            for kind, L, cnt in ((True, lists[0], counts[0]),
                                 (False, lists[1], counts[1])):
                for w in range(n):
                    pri = offered[kind][w]
                    want = sorted(pri, key=pri.get)[:cap]
                    assert sorted(L[w, :cnt[w]]) == sorted(want)
            for u in range(n):
                for j in range(c):
                    in_own = ind[u, j] in lists[0][u, :counts[0][u]]
                    assert got[u, j] == (flag[u, j] and not in_own)
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_local_joins_offer_each_new_pair_once_and_only_what_can_enter(storage):
    """The joins against their definition: every (new, new) and (new, old)
    pair of a point's candidates is compared once, and offered to each of
    its two rows if within the row's worst distance and not already held
    by the row; offers are bucketed by the chunk of their row."""
    K = _neighbor_kernels
    rng = np.random.RandomState(1)
    n, m, c, cap = 70, 11, 6, 5
    X = planted(n=n, m=m, dtype=np.float32)
    X64 = X.astype(np.float64)
    dist = ((X64[:, None, :] - X64[None]) ** 2).sum(-1)
    ind = np.empty((n, c), dtype=np.int32)
    for u in range(n):
        ind[u] = np.r_[u, rng.choice(np.delete(np.arange(n), u), c - 1,
                                     replace=False)]
    worst = np.median(dist, axis=1)
    lists, counts = [], []
    for _ in range(2):
        L = np.full((n, cap), -1, dtype=np.int32)
        cnt = rng.randint(0, cap + 1, size=n).astype(np.int64)
        for v in range(n):
            L[v, :cnt[v]] = rng.choice(np.delete(np.arange(n), v), cnt[v],
                                       replace=False)
        lists.append(L)
        counts.append(cnt)
    (new_c, old_c), (n_new, n_old) = lists, counts
    size = K.N_CHUNKS * n * (2 * cap) ** 2
    scratch, offers = ((np.empty(size, dtype=np.int32),
                        np.empty(size, dtype=np.int32), np.empty(size))
                       for _ in range(2))
    offsets = np.zeros((K.N_CHUNKS, K.N_CHUNKS + 1), dtype=np.int64)
    if storage == "dense":
        K.nnd_join_dense(X, ind, new_c, n_new, old_c, n_old, worst, 0, n,
                         scratch, offers, offsets)
    else:
        Xs = sp.csr_matrix(X)
        K.nnd_join_csr(Xs.data, Xs.indices, Xs.indptr, ind, new_c, n_new,
                       old_c, n_old, worst, 0, n, scratch, offers, offsets)
    made, bounds, per_chunk = [], K.chunk_bounds(n), size // K.N_CHUNKS
    for ch in range(K.N_CHUNKS):
        for b in range(K.N_CHUNKS):
            for e in range(ch * per_chunk + offsets[ch, b],
                           ch * per_chunk + offsets[ch, b + 1]):
                t, src = int(offers[0][e]), int(offers[1][e])
                assert bounds[b] <= t < bounds[b + 1]
                assert offers[2][e] == pytest.approx(dist[t, src], rel=1e-5)
                made.append((t, src))
    want = []
    for v in range(n):
        cand = [*new_c[v, :n_new[v]], *old_c[v, :n_old[v]]]
        for p in range(n_new[v]):
            for q in range(p + 1, len(cand)):
                a, b = int(cand[p]), int(cand[q])
                if a == b:
                    continue
                for t, src in ((a, b), (b, a)):
                    if dist[t, src] <= worst[t] and src not in ind[t]:
                        want.append((t, src))
    assert want, "the case must make offers"
    assert sorted(made) == sorted(want)


@pytest.mark.parametrize("n", [1, 3, 8, 9, 1001])
def test_offers_are_bucketed_by_the_chunk_that_owns_their_row(n):
    K = _neighbor_kernels
    bounds = K.chunk_bounds(n)
    for t in range(n):
        ch = K._chunk_of(t, bounds)
        assert bounds[ch] <= t < bounds[ch + 1]


def test_nndescent_step_timings_are_reported_and_change_nothing():
    Xp = _storage.prepare(planted(n=400))
    plain = _neighbors.nndescent(Xp, 8, 3)
    timings = {}
    timed = _neighbors.nndescent(Xp, 8, 3, timings=timings)
    for a, b in zip(plain, timed):
        np.testing.assert_array_equal(a, b)
    assert set(timings) == {"start", "sample", "join", "apply", "iterations"}
    assert 1 <= timings["iterations"] <= _neighbors.NND_MAX_ITER
    assert all(timings[s] >= 0 for s in ("start", "sample", "join", "apply"))


def test_nndescent_dense_and_csr_give_nearly_the_same_graph(nnd):
    train, new, nbrs = nnd
    # NN-descent ranks candidates by a fast distance whose rounding differs
    # between storages; the final ranking is exact and the same for both
    X = np.where(train > 2.0, train, 0.0)  # sparse enough to be worth CSR
    dense = _neighbors.fit_neighbors(_storage.prepare(X), 10,
                                     method="nndescent", random_state=0)
    csr = _neighbors.fit_neighbors(_storage.prepare(sp.csr_matrix(X)), 10,
                                   method="nndescent", random_state=0)
    Gd = _neighbors.query_graph(dense, dense.X, np.float64)
    Gc = _neighbors.query_graph(csr, csr.X, np.float64)
    truth = exact_rows(X, X, 10)
    assert recall(Gd, truth) > 0.99 and recall(Gc, truth) > 0.99
    assert Gd.multiply(Gc).nnz > 0.99 * Gd.nnz
    # the same candidates give the same rows whatever the storage
    cand = dense.graph.astype(np.int64)
    rows_d = _neighbors._rerank(dense.X, dense.X, cand, 10)
    rows_c = _neighbors._rerank(csr.X, csr.X, cand, 10)
    np.testing.assert_array_equal(rows_d, rows_c)


def near_ties(dtype, n_groups=12, size=30, m=32, seed=0):
    """Groups of points at the same distance from their centre in exact
    arithmetic (a centre plus permutations of one offset, each group also
    holding the centre): the float64 and the fast sums of those distances
    differ only by rounding, in ways that reorder the group."""
    rng = np.random.RandomState(seed)
    rows = []
    for _ in range(n_groups):
        centre = 10 + rng.rand(m) * 50
        offset = rng.rand(m)
        rows.append(centre)
        rows.extend(centre + offset[rng.permutation(m)] for _ in range(size - 1))
    return np.asarray(rows, dtype=dtype)


def sets(rows):
    return np.sort(rows, axis=1)


def count_exact_rows(monkeypatch):
    """A list that receives the number of rows of each exact re-ranking."""
    measured = []
    exact_rerank = _neighbors._exact_rerank
    monkeypatch.setattr(_neighbors, "_exact_rerank", lambda Xt, Xq, c, k: (
        measured.append(c.shape[0]), exact_rerank(Xt, Xq, c, k))[1])
    return measured


@pytest.mark.parametrize("storage", ["dense32", "dense64", "csr"])
def test_fast_distances_shortcut_keeps_the_exact_sets(storage, monkeypatch):
    # a row whose k-th and (k+1)-th fast distances are further apart than
    # their rounding keeps its first k candidates; the rest are re-ranked
    dtype = np.float64 if storage == "dense64" else np.float32
    X = near_ties(dtype)
    Xp = _storage.prepare(sp.csr_matrix(X) if storage == "csr" else X)
    n = X.shape[0]
    rng = np.random.RandomState(1)
    group = np.arange(n) // 30 * 30
    # each row's candidates: its whole group, then 5 points of other groups
    others = (group[:, None] + 30 + rng.randint(n - 30, size=(n, 5))) % n
    cand = np.hstack([group[:, None] + np.arange(30), others]).astype(np.int32)
    fast = np.empty(cand.shape)
    if storage == "csr":  # the kernels that NN-descent uses; they sort rows
        _neighbor_kernels.nnd_row_dists_csr(Xp.data, Xp.indices, Xp.indptr,
                                            cand, fast)
    else:
        _neighbor_kernels.nnd_row_dists_dense(Xp.X, cand, fast)
    cand = cand.astype(np.int64)
    measured = count_exact_rows(monkeypatch)
    for k in (3, 10, 30):
        expected = sets(_neighbors._rerank(Xp, Xp, cand, k))
        if storage != "csr" and k < 30:
            # the fast order alone would pick other sets for some rows
            assert np.any(sets(cand[:, :k]) != expected)
        measured.clear()
        got = _neighbors._rerank(Xp, Xp, cand, k, fast)
        np.testing.assert_array_equal(sets(got), expected)
        if k == 30:  # the group, then far points: every row is clear
            assert measured == []
        elif storage != "csr":  # the centres' near-ties are measured
            assert 0 < sum(measured) < n / 2


def test_fast_error_bounds_the_fast_distances():
    X = near_ties(np.float32, m=300)
    Xp = _storage.prepare(X)
    group = np.arange(X.shape[0]) // 30 * 30
    cand = (group[:, None] + np.arange(30)).astype(np.int32)
    fast = np.empty(cand.shape)
    _neighbor_kernels.nnd_row_dists_dense(Xp.X, cand, fast)  # sorts cand too
    exact = np.empty(cand.shape)
    _neighbor_kernels.sq_distances_dense(Xp.X, Xp.X, cand.astype(np.int64),
                                         exact)
    rel, tiny = _neighbors.fast_error(Xp)
    assert 0 < rel < 1e-4
    assert np.all(np.abs(fast - exact) <= rel * fast + tiny)
    assert np.any(fast != exact)  # the fast sums do round differently
    assert _neighbors.fast_error(_storage.prepare(sp.csr_matrix(X))) == (0, 0)


def test_fit_and_queries_use_the_shortcut_and_give_the_exact_rows(
        nnd, monkeypatch):
    train, new, nbrs = nnd
    measured = count_exact_rows(monkeypatch)
    Xp = _storage.prepare(train)
    again = _neighbors.fit_neighbors(Xp, 10, method="nndescent",
                                     random_state=0)
    fitted = sets(again._train_rows)
    assert sum(measured) < 0.2 * len(train)  # most rows are clear
    exact = sets(_neighbors._rerank(Xp, Xp, again.graph.astype(np.int64), 10))
    np.testing.assert_array_equal(fitted, exact)
    measured.clear()
    Q = _storage.prepare(new)
    G = _neighbors.query_graph(nbrs, Q, np.float64)
    assert sum(measured) < 0.2 * len(new)
    cand, _ = _neighbors._search_rows(nbrs, Q)
    rows = sets(_neighbors._rerank(nbrs.X, Q, cand, 10))
    np.testing.assert_array_equal(G.indices.reshape(-1, 10), rows)


def test_clusterer_with_nndescent_matches_exact_on_digits(digits):
    X, y = digits
    exact = NMFClusterer(10, random_state=0, neighbors="exact").fit(X)
    approx = NMFClusterer(10, random_state=0, neighbors="nndescent").fit(X)
    assert approx._nn.method == "nndescent"
    acc = clustering_accuracy(y, approx.labels_)
    # measured 0.892 against 0.903 at seed 0, 0.902 against 0.899 over seeds 0-4
    assert acc > clustering_accuracy(y, exact.labels_) - 0.02
    # predict searches the graph, fit used the rows NN-descent built
    # (measured: all agree for seeds 0-4)
    assert np.mean(approx.predict(X) == approx.labels_) > 0.99
    X_new = X[:50] + 0.01
    np.testing.assert_array_equal(approx.predict(X_new)[7:8],
                                  approx.predict(X_new[7:8]))


# -- what a fitted model stores ------------------------------------------------
@pytest.mark.parametrize("neighbors", ["exact", "nndescent"])
@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_pickle_holds_the_training_data_once(digits, neighbors, storage):
    X = digits[0][:600]
    data = sp.csr_matrix(X) if storage == "csr" else X
    size = (data.data.nbytes + data.indices.nbytes + data.indptr.nbytes
            if storage == "csr" else data.nbytes)
    model = NMFClusterer(10, random_state=0, max_iter=30,
                         neighbors=neighbors).fit(data)
    model.predict(data[:5])  # builds the exact index, which is not pickled
    index = len(pickle.dumps(model._nn))
    graph = 0 if model._nn.graph is None else (
        model._nn.graph.nbytes + model._nn.adj_indices.nbytes
        + model._nn.adj_indptr.nbytes + model._nn.pivots.nbytes)
    assert index < size + graph + 2000  # was about 2 * size for CSR
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(data), model.predict(data))


def test_verbose_fit_reports_the_neighbour_and_spectral_phases(capsys):
    X = planted(n=400, m=8)
    NMFClusterer(4, neighbors="nndescent", max_iter=5, random_state=0,
                 verbose=1).fit(X)
    err = capsys.readouterr().err
    assert "nndescent nearest neighbours of 400 samples" in err
    assert "leading eigenvectors" in err and "KMeans on the spectral" in err


# -- the spectral start ----------------------------------------------------------
@pytest.mark.parametrize("rank", [2, 3, 5])
def test_leading_eigenvectors_resolve_disconnected_components(rank):
    # three well-separated groups: the 10-NN graph has three components and
    # the eigenvalue 1 three times, which plain Lanczos does not resolve
    rng = np.random.RandomState(0)
    X = np.vstack([rng.rand(30, 4) + 10 * c for c in range(3)])
    A, S = affinity(X)
    U = _spectral._leading_eigenvectors(A, S, rank, np.random.RandomState(0))
    assert U.shape == (90, rank)
    np.testing.assert_allclose(U.T @ U, np.eye(rank), atol=1e-8)
    groups = np.repeat(np.arange(3), 30)
    if rank >= 3:
        # A U = U diag(lambda), with lambda = 1 on the three indicator vectors
        values = np.einsum("ij,ij->j", U, A @ U)
        np.testing.assert_allclose(A @ U, U * values, atol=1e-6)
        np.testing.assert_allclose(values[:3], 1.0, atol=1e-10)
    labels = _spectral._spectral_indicator(A, U, rank, rng).argmax(axis=1)
    if rank <= 3:  # no group is split
        assert all(len(np.unique(labels[groups == c])) == 1 for c in range(3))
    if rank >= 3:  # no cluster spans two groups
        assert all(len(np.unique(groups[labels == j])) == 1
                   for j in np.unique(labels))



def test_loose_eigen_tolerance_keeps_components_exact_and_labels(monkeypatch):
    # large graphs ask ARPACK for EIGEN_TOL only; the component vectors are
    # still written down exactly and the clusters are the same
    rng = np.random.RandomState(0)
    X = np.vstack([rng.rand(60, 4) + 10 * c for c in range(2)]
                  + [rng.rand(60, 4) * [1, 1, 4, 4] + 20])
    A, S = affinity(X)
    tight = _spectral._leading_eigenvectors(A, S, 4, np.random.RandomState(0))
    monkeypatch.setattr(_spectral, "EIGEN_TOL_FROM", 0)
    loose = _spectral._leading_eigenvectors(A, S, 4, np.random.RandomState(0))
    np.testing.assert_array_equal(loose[:, :3], tight[:, :3])
    values = np.einsum("ij,ij->j", loose, A @ loose)
    assert np.linalg.norm(A @ loose - loose * values, axis=0).max() < 1e-4
    assert abs(abs(loose[:, 3] @ tight[:, 3]) - 1) < 1e-6


def _planted_graph(seed=0):
    rng = np.random.RandomState(seed)
    X = np.vstack([rng.rand(80, 5) + 1.5 * c for c in range(5)])
    return affinity(X)


_spectral_refined = _spectral._refined


def test_single_precision_eigenvectors_span_the_double_precision_subspace(
        monkeypatch):
    # large graphs are solved by ARPACK in float32, refined in float64 and
    # checked: the subspace is the double-precision one, the residuals meet
    # EIGEN_TOL, the vectors are orthonormal and the deflated ones exact
    A, S = _planted_graph()
    monkeypatch.setattr(_spectral, "EIGEN_TOL_FROM", 0)
    double = _spectral._leading_eigenvectors(A, S, 6, np.random.RandomState(0))
    calls = []
    arpack = _spectral._arpack
    monkeypatch.setattr(_spectral, "_arpack", lambda *a: calls.append(
        a[4]) or arpack(*a))
    monkeypatch.setattr(_spectral, "EIGEN_SINGLE_FROM", 0)
    single = _spectral._leading_eigenvectors(A, S, 6, np.random.RandomState(0))
    assert calls == [np.float32]
    assert single.dtype == np.float64 and single.flags.c_contiguous
    np.testing.assert_allclose(single.T @ single, np.eye(6), atol=1e-12)
    values = np.einsum("ij,ij->j", single, A @ single)
    assert np.linalg.norm(A @ single - single * values, axis=0).max() \
        <= _spectral.EIGEN_TOL
    n_comp = _spectral.connected_components(S, directed=False)[0]
    np.testing.assert_array_equal(single[:, :n_comp], double[:, :n_comp])
    # principal angles between the two subspaces
    cosines = np.linalg.svd(single.T @ double, compute_uv=False)
    assert cosines.min() > 1 - 1e-6


@pytest.mark.parametrize("failure", ["no convergence", "residual"])
def test_single_precision_failures_fall_back_to_double(monkeypatch, failure):
    A, S = _planted_graph(1)
    monkeypatch.setattr(_spectral, "EIGEN_TOL_FROM", 0)
    if failure == "residual":  # more than single precision can meet
        monkeypatch.setattr(_spectral, "EIGEN_TOL", 1e-12)
    double = _spectral._leading_eigenvectors(A, S, 6, np.random.RandomState(0))
    monkeypatch.setattr(_spectral, "EIGEN_SINGLE_FROM", 0)
    arpack = _spectral._arpack
    if failure == "no convergence":
        def flaky(A, V, count, v0, dtype, tol):
            if dtype == np.float32:
                raise _spectral.ArpackNoConvergence("no", np.zeros(0),
                                                    np.zeros((0, 0)))
            return arpack(A, V, count, v0, dtype, tol)
        monkeypatch.setattr(_spectral, "_arpack", flaky)
    else:
        refined = []
        monkeypatch.setattr(_spectral, "_refined", lambda *a: refined.append(
            _spectral_refined(*a)) or refined[-1])
    again = _spectral._leading_eigenvectors(A, S, 6, np.random.RandomState(0))
    np.testing.assert_array_equal(again, double)
    if failure == "residual":
        assert refined == [None]  # computed, checked and refused

"""The three methods of NMFClusterer: how each fits and solves new samples.

``METHODS`` is the one place where ``NMFClusterer.method`` is turned into
behaviour. Each method's ``fit(model, storage, W, H)`` returns the fitted
attributes and the training codes (it sets nothing on the model), and its
``codes(model, storage)`` solves new samples against them, each on its own.
"""

from sklearn.utils import check_random_state

from . import _engine, _graph, _neighbors, _problems, _progress, _spectral
from ._base import _BaseNMF, code_init
from ._init import RANDOM_INITS

#: Inits that differ from run to run, so that restarts repeat them: the
#: spectral init's KMeans and eigensolver are seeded from the random state.
RESTART_INITS = (*RANDOM_INITS, "spectral")


class PlainMethod:
    """``method="nmf"``: plain NMF of X; codes with ``components_`` fixed."""

    @staticmethod
    def fit(model, storage, W, H):
        result = model._fit_plain(storage, W, H, n_init=model.n_init)
        w0 = code_init(result.W)
        codes = _problems.solve_codes(
            storage, result.H, model._loss, w0, max_iter=model.max_iter,
            tol=model.tol, solver=model._check_solver())
        return {"_method": "nmf", "_x_scale": storage.scale,
                "components_": result.H, "n_iter_": int(result.n_iter),
                "_code_init": w0}, codes

    @staticmethod
    def codes(model, storage):
        return _BaseNMF._solve_codes(model, storage)


class _GraphBased:
    """What the graph methods share: codes of new samples from their graph."""

    @classmethod
    def codes(cls, model, storage):
        """The codes of new samples, solved from their edges to the training
        samples (the query graph of the fitted neighbour index)."""
        G = _neighbors.query_graph(model._nn, storage,
                                   model.graph_factor_.dtype)
        return cls._codes(model.__dict__, storage, G, model)


class GraphMethod(_GraphBased):
    """``method="graph"``: graph-regularised NMF (GNMF) of X on the graph."""

    @staticmethod
    def fit(model, storage, W, H):
        index, G, S, degrees = _graph.neighbour_graph(storage, model)
        # lambda in the units of the (scaled) data: graph_strength is free
        # of them (the data term scales as X^2, the graph term as X)
        strength = float(model.graph_strength) * _graph.rms(storage)

        def make_problem(W0, H0):
            return _problems.GNMF(storage, S, degrees, W0, H0, strength)

        best = _engine.fit(
            model._starts(storage, W, H, model.n_init, make_problem,
                          RESTART_INITS),
            max_iter=model.max_iter, tol=model.tol, verbose=model.verbose)
        state = {"_method": "graph", "_x_scale": storage.scale, "_nn": index,
                 "_strength": strength, "graph_factor_": best.W,
                 "components_": best.H, "n_iter_": int(best.n_iter),
                 "_code_init": code_init(best.W)}
        return state, GraphMethod._codes(state, storage, G, model)

    @staticmethod
    def _codes(state, storage, G, model):
        codes = _graph.gnmf_codes(
            storage, G, state["graph_factor_"], state["components_"],
            state["_strength"], state["_code_init"], max_iter=model.max_iter,
            tol=model.tol)
        # An all-zero sample has no signal: no membership, label -1, as with
        # plain NMF (its neighbours would otherwise lend it theirs).
        codes[storage.zero_rows()] = 0
        return codes


class SymmetricMethod(_GraphBased):
    """``method="symmetric"``: symmetric NMF of the normalised affinity."""

    @staticmethod
    def fit(model, storage, W, H):
        index, G, S, degrees = _graph.neighbour_graph(storage, model)
        A, _ = _neighbors.degree_normalize(S)
        rank, rng = model.n_clusters, check_random_state(model.random_state)

        def start(init):
            def make():
                with _progress.phase(f"{init} start", verbose=model.verbose):
                    W0 = _spectral.init_symnmf(A, S, rank, init, rng, W,
                                               verbose=model.verbose)
                return _problems.SymNMF(A, W0)
            return make

        init = model.init or "spectral"
        best = _engine.fit(
            [(name, start(name)) for name in (
                init if run == 0 or init in RESTART_INITS else "random"
                for run in range(model.n_init))],
            max_iter=model.max_iter, tol=model.tol, verbose=model.verbose)
        factor = best.W.astype(storage.dtype)
        state = {"_method": "symmetric", "_x_scale": storage.scale,
                 "_nn": index, "_degrees": degrees, "graph_factor_": factor,
                 "n_iter_": int(best.n_iter), "_code_init": code_init(best.W)}
        with _progress.phase("the codes of the training samples",
                             verbose=model.verbose):
            codes = SymmetricMethod._codes(state, storage, G, model)
        with _progress.phase("fitting the components", verbose=model.verbose):
            state["components_"] = _graph.fit_components(
                storage, codes, model._loss, solver=model._check_solver(),
                max_iter=model.max_iter, tol=model.tol)
        return state, codes

    @staticmethod
    def _codes(state, storage, G, model):
        A_rows, _ = _neighbors.degree_normalize(G,
                                                col_degrees=state["_degrees"])
        factor = state["graph_factor_"]
        codes = _graph.symnmf_codes(
            A_rows, factor, state["_code_init"].astype(factor.dtype),
            max_iter=model.max_iter, tol=model.tol)
        codes[storage.zero_rows()] = 0  # no signal: no cluster, as above
        return codes


#: The one place where ``method`` is turned into behaviour.
METHODS = {"nmf": PlainMethod, "graph": GraphMethod,
           "symmetric": SymmetricMethod}

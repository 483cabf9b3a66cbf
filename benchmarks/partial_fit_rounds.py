#!/usr/bin/env python
"""partial_fit with one and two rounds per batch, against a whole fit.

Four passes of ``partial_fit`` over ``load_digits`` (scaled to [0, 1]) in
batches of 300, for ``NMFClusterer(10, method="nmf")``; the error of the
whole data, ``||X - transform(X) @ components_||``, over the whole fit's
``reconstruction_err_``, with scikit-learn's ``MiniBatchNMF`` under the same
loop for reference. Seconds: ``python benchmarks/partial_fit_rounds.py``.
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import MiniBatchNMF

from sknmfcluster import NMFClusterer, _streaming

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402


def passes(model, X, n_passes=4, batch=300):
    errors = []
    for _ in range(n_passes):
        for start in range(0, len(X), batch):
            model.partial_fit(X[start:start + batch])
        errors.append(np.linalg.norm(X - model.transform(X) @ model.components_))
    return errors


def main():
    info = machine_info()
    print(", ".join(f"{k} {v}" for k, v in info.items() if not isinstance(v, (dict, list))))
    X = load_digits().data / 16.0
    whole = NMFClusterer(10, method="nmf", random_state=0).fit(X)
    print(f"whole fit: reconstruction_err_ {whole.reconstruction_err_:.2f}")
    print("| partial_fit | error after each pass | last / whole fit |")
    print("|---|---|---|")
    for rounds in (1, 2):
        _streaming.PARTIAL_FIT_ROUNDS = rounds
        errors = passes(NMFClusterer(10, method="nmf", random_state=0), X)
        print(f"| ours, {rounds} round(s) per batch | "
              f"{', '.join(f'{e:.2f}' for e in errors)} | "
              f"{errors[-1] / whole.reconstruction_err_:.3f} |")
    errors = passes(MiniBatchNMF(10, batch_size=300, random_state=0), X)
    print(f"| scikit-learn MiniBatchNMF | {', '.join(f'{e:.2f}' for e in errors)} "
          f"| {errors[-1] / whole.reconstruction_err_:.3f} |")


if __name__ == "__main__":
    main()

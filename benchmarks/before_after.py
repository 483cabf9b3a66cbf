#!/usr/bin/env python
"""Per-iteration time of two checkouts of the package, interleaved in one run.

    python benchmarks/before_after.py /path/to/old/checkout /path/to/new/checkout

Each checkout runs in fresh processes (``PYTHONPATH`` set to it), in turn,
``--rounds`` times, the order alternating from round to round (the
second process of a pair tends to measure slower); each process
measures, for every case, the slope of the fit time between
``max_iter=10`` and ``max_iter=50`` (``tol=0``,
``init="random"``) three times and keeps the smallest, with Numba's thread
count as given by ``--threads`` (0: left as Numba sets it). The table gives
the smallest per checkout and their ratio. Run it on a quiet machine; the
load average is printed.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKER = r"""
import json, sys, time, warnings
import numba, numpy as np
sys.path.insert(0, {here!r})
from _common import dense_images, zipf_counts
from sknmfcluster import NMFClusterer
warnings.simplefilter("ignore")
if {threads}:
    numba.set_num_threads({threads})
X32 = dense_images(20000, np.float32)
cases = {{
    "dense f32 r10": (X32, dict(n_clusters=10)),
    "dense f64 r10": (X32.astype(np.float64), dict(n_clusters=10)),
    "dense f64 r50": (X32.astype(np.float64), dict(n_clusters=50)),
    "csr f64 r20 frobenius": (zipf_counts(50000, 5000), dict(n_clusters=20)),
    "csr f64 r20 kl": (zipf_counts(50000, 5000),
                       dict(n_clusters=20, beta_loss="kullback-leibler")),
}}
out = {{}}
only = {only!r}
for name, (X, params) in cases.items():
    if only and not any(word in name for word in only.split(",")):
        continue
    slopes = []
    for _ in range(3):
        times = []
        for max_iter in (10, 50):
            est = NMFClusterer(method="nmf", init="random", random_state=0,
                               tol=0, max_iter=max_iter, **params)
            est.fit(X)
            start = time.perf_counter()
            est.fit(X)
            times.append(time.perf_counter() - start)
        slopes.append((times[1] - times[0]) / 40)
    out[name] = min(slopes)
print(json.dumps(out))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--only", default="",
                        help="comma-separated parts of case names to run "
                             "(e.g. 'dense f32,kl'); default: every case")
    args = parser.parse_args()
    code = WORKER.format(here=str(HERE), threads=args.threads, only=args.only)
    print("load average at start", os.getloadavg(), flush=True)
    results = {"before": [], "after": []}
    for round_ in range(args.rounds):
        order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
        for key in order:
            env = dict(os.environ, PYTHONPATH=getattr(args, key))
            proc = subprocess.run([sys.executable, "-c", code], env=env,
                                  capture_output=True, text=True, check=False)
            if proc.returncode:
                sys.exit(proc.stderr[-3000:])
            results[key].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(key, "round", round_, results[key][-1], flush=True)
    print("load average at end", os.getloadavg())
    print("| case | before ms/it | after ms/it | after / before |")
    print("|---|---|---|---|")
    for name in results["before"][0]:
        before = min(r[name] for r in results["before"]) * 1000
        after = min(r[name] for r in results["after"]) * 1000
        print(f"| {name} | {before:.1f} | {after:.1f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()

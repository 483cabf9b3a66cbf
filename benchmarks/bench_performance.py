#!/usr/bin/env python
"""Performance of sknmfcluster against scikit-learn's NMF, measured in one run.

Per-iteration time (slope over several ``max_iter``) and fixed cost
(intercept), next to the floor of one iteration (one streaming read of ``X``
or ``4 n m k`` flops at the measured matrix-product rate, whichever is
larger); time to reach an objective within 1 % and 0.1 % of the best any
solver reaches in a long run; peak extra memory over the size of ``X``;
first-call compile time and cached import-plus-first-fit time; the effect of
``numba.set_num_threads``; 20 iterations on counts of the size of RcppML's
published benchmark (the ``anchor``). Everything is measured in the same run, on the
same data, from the same initial factors.

    python benchmarks/bench_performance.py --quick          # smoke test, minutes
    python benchmarks/bench_performance.py --out results.json  # full, ~20 min

See benchmarks/README.md for what each number means.
"""

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SECTIONS = ("dense", "sparse", "digits", "threads", "compile", "anchor")

CONFIGS = {
    "full": {
        "dense_n": 70_000, "dense_ranks": (10, 50),
        "dense_dtypes": ("float64", "float32"),
        "sparse_shape": (50_000, 20_000), "sparse_density": 0.002,
        "sparse_rank": 10,
        "repeat": 2, "timing_budget_s": 20.0, "thread_iters": (5, 15),
        "budget_s": {"dense": 10.0, "sparse": 15.0, "digits": 5.0},
        "long_min_iter": 10, "long_max_iter": 5000, "mb_max_epochs": 500,
        "compile_cached_runs": 2, "gemm_size": 4000, "gemm_repeat": 3, "read_repeat": 7,
        "memory_max_iter": 3, "memory_isolated": True, "memory_ranks": (10,),
        "anchor_shape": (5_000, 40_000), "anchor_density": 0.165,
        "anchor_sklearn": True,
    },
    "quick": {
        "dense_n": 10_000, "dense_ranks": (10, 50),
        "dense_dtypes": ("float64", "float32"),
        "sparse_shape": (10_000, 5_000), "sparse_density": 0.002,
        "sparse_rank": 10,
        "repeat": 2, "timing_budget_s": 1.0, "thread_iters": (2, 6),
        "budget_s": {"dense": 1.0, "sparse": 1.0, "digits": 0.5},
        "long_min_iter": 5, "long_max_iter": 5000, "mb_max_epochs": 500,
        "compile_cached_runs": 1, "gemm_size": 2000, "gemm_repeat": 2, "read_repeat": 5,
        "memory_max_iter": 2, "memory_isolated": False, "memory_ranks": (10,),
        "anchor_shape": (1_000, 8_000), "anchor_density": 0.165,
        "anchor_sklearn": False,
    },
}
TARGETS = {"floor": 1.5, "time_to_target": 1 / 3, "sparse_kl_speedup": 15.0,
           "sparse_kl_cd_time": 20.0, "sparse_memory": 1.2,
           "cached_first_fit_s": 1.0, "cold_first_fit_s": 10.0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small data and short runs (a ~3 minute smoke test)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run, from: "
                             + ", ".join(SECTIONS))
    parser.add_argument("--out", type=Path,
                        help="write every raw number to this JSON file")
    parser.add_argument("--unset-openblas-env", action="store_true",
                        help="re-run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE "
                             "unset (an honest scikit-learn baseline)")
    parser.add_argument("--compile-variants", action="store_true",
                        help="also time the first fit of each dtype x loss x "
                             "storage variant with a cold cache (minutes)")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {SECTIONS}")
    return args


def reexec_without_openblas_env():
    """Replace this process by the same command without the OpenBLAS variables."""
    if any(name in os.environ for name in OPENBLAS_VARS):
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
        print(f"Re-running with {', '.join(OPENBLAS_VARS)} unset.", flush=True)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.unset_openblas_env:
        reexec_without_openblas_env()

# Heavy imports only after a possible re-exec.
import numpy as np  # noqa: E402

sys.path.insert(0, str(HERE))
import _common  # noqa: E402
import _extras  # noqa: E402
import _measure  # noqa: E402
import _memory  # noqa: E402
import _solvers  # noqa: E402
from _report import fmt, heading, ratio, say, table  # noqa: E402


# -- one problem: all solvers ------------------------------------------------
def run_problem(problem, cfg, budget, title, memory=True):
    solvers = _solvers.solvers_for(problem, include_cd=True)
    clock = time.perf_counter()
    say(f"  timing {', '.join(s.name for s in solvers)} (best of {cfg['repeat']}, "
        f"<= {cfg['timing_budget_s']:g} s each) ...")
    timing = _measure.time_solvers(solvers, cfg["timing_budget_s"], cfg["repeat"])
    say(f"  long runs ({budget:g} s modelled budget each) ... "
        f"[{time.perf_counter() - clock:.0f} s]")
    curves = _measure.run_trajectories(solvers, timing, cfg, budget)
    targets = _measure.time_to_targets(solvers, timing, curves)
    if memory:
        say(f"  peak memory in worker processes ... [{time.perf_counter() - clock:.0f} s]")
        memory = _memory.measure(problem.X, problem.W0, problem.H0, problem.beta,
                                 [s.name for s in solvers], cfg["memory_max_iter"],
                                 isolated=cfg["memory_isolated"])
    else:
        memory = {}
    say(f"  done [{time.perf_counter() - clock:.0f} s]")
    return {"title": title, "shape": list(problem.X.shape),
            "dtype": str(problem.X.dtype), "rank": problem.rank,
            "beta": problem.beta, "nbytes": _common.nbytes(problem.X),
            "timing": timing, "curves": curves, "targets": targets,
            "memory": memory}


def problem_table(res, floor=None):
    """The table of one problem: one row per solver."""
    ours = res["timing"]["ours"]["slope"]
    ours_t = res["targets"]["ours"]["0.001"]["seconds"]
    rows = []
    for name, line in res["timing"].items():
        tt = res["targets"][name]
        mem = res["memory"].get(name, {})
        cells = [name, line["unit"], "/".join(str(i) for i in line["iters"]),
                 fmt(1e3 * line["slope"]),
                 fmt(line["intercept"]),
                 ratio(line["slope"], floor["floor"]) if floor else "-",
                 ratio(line["slope"], ours)]
        for gap in ("0.01", "0.001"):
            hit = tt[gap]
            cells += [str(hit["iters"]) if hit["iters"] else f">{hit['after_iters']}",
                      fmt(hit["seconds"]) if hit["seconds"] is not None
                      else ">" + fmt(hit["not_within"])]
        cells.append(ratio(tt["0.001"]["seconds"], ours_t))
        cells.append(ratio(mem.get("extra"), res["nbytes"]) if "extra" in mem
                     else ("error" if mem else "-"))
        rows.append(cells)
    headers = ["solver", "iter", "max_iter", "per-iter ms", "fixed s", "/floor", "/ours",
               "it→1%", "t→1% s", "it→0.1%", "t→0.1% s", "t→0.1% /ours",
               "peak extra RSS / X"]
    return table(headers, rows)


def print_problem(res, floor=None):
    shape = "x".join(str(s) for s in res["shape"])
    say(heading(f"{res['title']}: {shape} {res['dtype']}, rank {res['rank']}, "
                f"{_solvers.BETA_NAMES[res['beta']]}", 3))
    if floor:
        say(f"floor per iteration: read X.sum() {fmt(1e3 * floor['read_sum'])} ms "
            f"(fastest read {fmt(1e3 * floor['read_fastest'])} ms), "
            f"4nmk flops {fmt(1e3 * floor['flops'])} ms → floor "
            f"{fmt(1e3 * floor['floor'])} ms "
            f"(with the fastest read: {fmt(1e3 * floor['floor_fastest_read'])} ms)")
    t = res["targets"]
    say(f"best objective {t['best_objective']:.6e} (by {t['best_solver']}); "
        f"X is {fmt(res['nbytes'] / 2**20)} MiB\n")
    say(problem_table(res, floor))


# -- sections -------------------------------------------------------------------
def section_dense(cfg, results):
    say(heading("Dense: synthetic MNIST-size images (low rank + noise), Frobenius"))
    rates = {}
    out = []
    for dtype in cfg["dense_dtypes"]:
        rates[dtype] = _common.gemm_rate(dtype, cfg["gemm_size"], cfg["gemm_repeat"])
        say(f"matrix product rate ({dtype}, {cfg['gemm_size']}²): "
            f"{fmt(rates[dtype] / 1e9)} GFLOP/s")
        X = _common.dense_images(cfg["dense_n"], dtype)
        read = _common.read_times(X, cfg["read_repeat"])
        say(f"one read of X ({fmt(X.nbytes / 2**20)} MiB, "
            f"{100 * np.count_nonzero(X) / X.size:.0f}% non-zero): "
            + ", ".join(f"{k} {fmt(1e3 * v)} ms ({fmt(X.nbytes / v / 1e9)} GB/s)"
                        for k, v in read.items()))
        for rank in cfg["dense_ranks"]:
            say(f"\n{dtype}, rank {rank}:")
            floor = _common.dense_floor(X, rank, read, rates[dtype])
            problem = _solvers.Problem(X, *_solvers.random_init(X, rank), beta=2)
            res = run_problem(problem, cfg, cfg["budget_s"]["dense"], "dense images",
                              memory=rank in cfg["memory_ranks"])
            res["floor"] = floor
            out.append(res)
            print_problem(res, floor)
        del X
    results["gemm_flops_per_s"] = rates
    results["dense"] = out


def section_sparse(cfg, results):
    n, m = cfg["sparse_shape"]
    say(heading(f"Sparse: Zipf-distributed counts {n}x{m} (CSR)"))
    X = _common.zipf_counts(n, m, density=cfg["sparse_density"])
    say(f"{X.nnz} non-zeros ({100 * X.nnz / (n * m):.3f}% dense), "
        f"largest count {X.data.max():.0f}")
    out = []
    for beta in (2, 1):
        say(f"\n{_solvers.BETA_NAMES[beta]}, rank {cfg['sparse_rank']}:")
        problem = _solvers.Problem(X, *_solvers.random_init(X, cfg["sparse_rank"]), beta=beta)
        res = run_problem(problem, cfg, cfg["budget_s"]["sparse"], "Zipf counts")
        res["dense_temp_bytes"] = n * m * X.dtype.itemsize
        out.append(res)
        print_problem(res)
    results["sparse"] = out


def section_digits(cfg, results):
    say(heading("load_digits (1,797 x 64), rank 10"))
    X = _common.digits()
    out = []
    for beta in (2, 1):
        problem = _solvers.Problem(X, *_solvers.random_init(X, 10), beta=beta)
        res = run_problem(problem, cfg, cfg["budget_s"]["digits"], "load_digits",
                          memory=False)
        out.append(res)
        print_problem(res)
    results["digits"] = out


# -- targets ------------------------------------------------------------------
def _fastest_sklearn(res, gap="0.001"):
    """Bounds on the fastest scikit-learn time to the gap: (lower, upper,
    name of the fastest that got there). A solver that never got there in
    its long run only gives a lower bound."""
    lower, upper, name = float("inf"), float("inf"), None
    for solver, reached in res["targets"].items():
        if not solver.startswith("skl-"):
            continue
        hit = reached[gap]
        if hit["seconds"] is not None:
            lower = min(lower, hit["seconds"])
            if hit["seconds"] < upper:
                upper, name = hit["seconds"], solver
        else:
            lower = min(lower, hit["not_within"])
    return lower, upper, name


def _time_target_row(res, who, tag):
    lower, upper, name = _fastest_sklearn(res)
    mine = res["targets"][who]["0.001"]["seconds"]
    share = TARGETS["time_to_target"]
    if mine is None:
        met = "NO"
    elif mine <= share * lower:
        met = "yes"
    elif mine > share * upper:
        met = "NO"
    else:
        met = "?"
    if name is None:
        versus = f"> {fmt(lower)} s (no sklearn solver got there)"
    elif lower < upper:
        versus = f"{fmt(upper)} s ({name}; another never got there, > {fmt(lower)} s)"
    else:
        versus = f"{fmt(upper)} s ({name})"
    return [f"t→0.1% ({who}) ≤ 1/3 of fastest sklearn", tag,
            f"{fmt(mine)} s vs {versus}", met]


def _kl_cd_time_row(res):
    """The default KL solver's (coordinate descent's) time to 0.1 % against
    scikit-learn's MU."""
    mine = res["targets"]["ours"]["0.001"]["seconds"]
    skl = res["targets"]["skl-mu"]["0.001"]
    goal = TARGETS["sparse_kl_cd_time"]
    label = "sparse KL t→0.1%: skl-mu / ours (cd) ≥ 20"
    if mine is None:
        return [label, "Zipf counts", "ours (cd) never got there", "NO"]
    if skl["seconds"] is None:  # a lower bound only
        ratio = skl["not_within"] / mine
        return [label, "Zipf counts",
                f"> {fmt(ratio, 3, 'x')} (skl-mu never got there in "
                f"{fmt(skl['not_within'])} s)", "yes" if ratio >= goal else "?"]
    ratio = skl["seconds"] / mine
    return [label, "Zipf counts", fmt(ratio, 3, "x"),
            "yes" if ratio >= goal else "NO"]


def target_rows(results):
    rows = []
    for res in results.get("dense", []):
        tag = f"dense {res['dtype']} rank {res['rank']}"
        value = res["timing"]["ours"]["slope"] / res["floor"]["floor"]
        rows.append(["per-iter / floor ≤ 1.5", tag, fmt(value, 3, "x"),
                     "yes" if value <= TARGETS["floor"] else "NO"])
    for res in results.get("dense", []) + results.get("sparse", []) + results.get("digits", []):
        tag = (f"{res['title']} {res['dtype']} rank {res['rank']} "
               f"{_solvers.BETA_NAMES[res['beta']]}")
        for who in ("ours", "ours-mu", "ours-est"):
            if who in res["targets"]:
                rows.append(_time_target_row(res, who, tag))
    for res in results.get("sparse", []):
        if res["beta"] != 1:
            continue
        for who in ("ours", "ours-mu"):
            speedup = (res["timing"]["skl-mu"]["slope"]
                       / res["timing"][who]["slope"])
            rows.append([f"sparse KL per-iter: skl-mu / {who} ≥ 15",
                         "Zipf counts", fmt(speedup, 3, "x"),
                         "yes" if speedup >= TARGETS["sparse_kl_speedup"]
                         else "NO"])
        rows.append(_kl_cd_time_row(res))
        mem = res["memory"]
        mine, skl = mem.get("ours-est", {}).get("extra"), mem.get("skl-mu", {}).get("extra")
        ok = mine is not None and skl and mine <= TARGETS["sparse_memory"] * skl
        rows.append(["sparse KL peak extra RSS: ours-est / skl-mu ≤ 1.2", "Zipf counts",
                     f"{fmt(mine / 2**20)} / {fmt(skl / 2**20)} MiB"
                     if mine is not None and skl else "error", "yes" if ok else "NO"])
    for res in results.get("sparse", []):
        worst = max((m.get("extra", 0) for n, m in res["memory"].items()
                     if n.startswith("ours")), default=0)
        ok = worst < 0.5 * res["dense_temp_bytes"]
        rows.append(["no dense n x m temporary (sparse)",
                     f"Zipf {_solvers.BETA_NAMES[res['beta']]}",
                     f"{fmt(worst / 2**20)} MiB vs {fmt(res['dense_temp_bytes'] / 2**20)} MiB",
                     "yes" if ok else "NO"])
    cached = [r["import"] + r["fit"] for key, r in results.get("compile", {}).items()
              if key.startswith("cached") and "import" in r]
    if cached:
        total = min(cached)
        rows.append(["cached import + first fit < 1 s", "100x20", fmt(total, 3, " s"),
                     "yes" if total < TARGETS["cached_first_fit_s"] else "NO"])
    cold = results.get("compile", {}).get("cold", {})
    if "fit" in cold:
        rows.append(["first fit, empty cache < 10 s", "100x20 default",
                     fmt(cold["fit"], 3, " s"),
                     "yes" if cold["fit"] < TARGETS["cold_first_fit_s"] else "NO"])
    for line in results.get("anchor", []):
        if line["default"]:
            anchor = line["shape"] == _extras.ANCHOR_SHAPE
            rows.append([f"{_extras.ANCHOR_ITERATIONS} iterations rank "
                         f"{_extras.ANCHOR_RANK} < RcppML's "
                         f"{_extras.RCPPML_SECONDS} s",
                         f"{'anchor' if anchor else 'smaller (quick)'} "
                         f"counts, {line['beta']}, {line['who']}",
                         fmt(line["seconds"], 3, " s"),
                         ("yes" if line["seconds"] < _extras.RCPPML_SECONDS
                          else "NO") if anchor else "n/a"])
    return rows


def print_machine(info):
    say(heading("Machine", 2))
    pools = "; ".join(f"{p['internal_api']} {p['version']} ({p['library']}, "
                      f"{p['architecture'] or '-'}, {p['num_threads']} threads)"
                      for p in info["threadpools"])
    say(f"{info['cpu_model']}, {info['cpus']} CPUs, AVX-512: {info['avx512']}, "
        f"{info['memory_gib']} GiB; {info['platform']}\n"
        f"Python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, "
        f"scikit-learn {info['scikit-learn']}, numba {info['numba']} "
        f"({info['numba_threads']} threads), sknmfcluster {info['sknmfcluster']} "
        f"at {info['git_commit']}\nthread pools: {pools}\n"
        "environment: " + ", ".join(f"{k}={v}" for k, v in info["env"].items()
                                    if v is not None or k in OPENBLAS_VARS)
        + f"\nload average at start: {info['load_average']}")
    if info["load_average"][0] > 0.5:
        say("WARNING: the machine is busy (load average > 0.5): timings are noisy.")


def main(args):
    mode = "quick" if args.quick else "full"
    cfg = CONFIGS[mode]
    started = time.perf_counter()
    info = _common.machine_info()
    say(f"# sknmfcluster performance benchmark ({mode} run; sections: "
        f"{', '.join(args.only)})")
    print_machine(info)
    results = {"mode": mode, "config": cfg, "machine": info}
    sections = {"dense": section_dense, "sparse": section_sparse,
                "digits": section_digits, "threads": _extras.section_threads,
                "compile": lambda c, r: _extras.section_compile(
                    c, r, args.compile_variants),
                "anchor": _extras.section_anchor}
    for name in SECTIONS:
        if name in args.only:
            section_start = time.perf_counter()
            try:
                sections[name](cfg, results)
            except Exception:  # report and go on with the other sections
                results.setdefault("errors", {})[name] = traceback.format_exc()
                say(f"\nsection {name} FAILED:\n{traceback.format_exc()}")
            say(f"\n({name}: {time.perf_counter() - section_start:.0f} s)")
    results["machine"]["numba_threading_layer"] = _common.numba_threading_layer()
    results["load_average_end"] = list(os.getloadavg())
    results["elapsed_s"] = time.perf_counter() - started
    say(heading("Targets (issues 5 and 14)"))
    say(table(["target", "data", "measured", "met"], target_rows(results)))
    say(f"\nload average at end: {results['load_average_end']}; "
        f"total {results['elapsed_s']:.0f} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=_jsonable))
        say(f"raw numbers written to {args.out}")


def _jsonable(obj):
    return obj.item() if hasattr(obj, "item") else str(obj)


if __name__ == "__main__":
    main(ARGS)

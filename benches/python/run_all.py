"""Run every comparison benchmark (``bench_*.py``) in one go and collect the results.

    ./scripts/dev-build --release
    PYTHONPATH=python python benches/python/run_all.py [--quick] [--only core,stream] [--out DIR]

Each benchmark runs in its own process (so thread pools and memory peaks do not leak between
them) with ``GRUMPY_BENCH_OUT`` pointing at a scratch folder, where the benchmarks that write
JSON put it; every benchmark's printed report is kept too. ``--quick`` sets
``GRUMPY_BENCH_QUICK=1`` (a quarter of the data, fewer repeats: a smoke run of a few minutes,
not numbers to quote) and passes ``--quick`` to the benchmarks that take it.

Writes ``results/<UTC timestamp>/`` (or ``--out``):

- ``results.json``: the machine (cores, versions from ``gr.show_config``), and per benchmark its
  exit code, wall time, printed report and JSON rows;
- ``results.md``: a markdown table of every JSON row (case, milliseconds, extra columns such as
  ratios and throughput), then each benchmark's printed report; this is the table
  docs/performance.md shows;
- ``<bench>.png``: a bar chart of each benchmark's times (log scale; grumpy orange, NumPy,
  Awkward, zarr-python, scipy, pykdtree, scikit-learn blue), when matplotlib is installed (otherwise the run says so and skips the charts).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def discover(only: list[str] | None) -> list[Path]:
    """The ``bench_*.py`` scripts next to this file (``only``: names without the prefix)."""
    found = sorted(HERE.glob("bench_*.py"))
    if only:
        want = {f"bench_{n.removeprefix('bench_').removesuffix('.py')}.py" for n in only}
        unknown = want - {p.name for p in found}
        if unknown:
            raise SystemExit(f"unknown benchmarks: {sorted(unknown)}")
        found = [p for p in found if p.name in want]
    return found


def run_one(script: Path, scratch: Path, quick: bool, timeout: float) -> dict:
    """Run one benchmark; returns its exit code, seconds, printed output and JSON (if any)."""
    name = script.stem
    out_dir = scratch / name
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GRUMPY_BENCH_OUT=str(out_dir))
    args = [sys.executable, str(script)]
    if quick:
        env["GRUMPY_BENCH_QUICK"] = "1"
        if '"--quick"' in script.read_text():
            args.append("--quick")
    print(f"== {name} {' '.join(args[2:])}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as e:
        code = -1
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr = f"timed out after {timeout:.0f} s"
    seconds = time.perf_counter() - t0
    data = {}
    for f in sorted(out_dir.glob("*.json")):
        try:
            data[f.stem] = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            data[f.stem] = {"error": f"unreadable JSON: {e}"}
    status = "ok" if code == 0 else f"FAILED (exit {code})"
    print(f"   {status} in {seconds:.1f} s", flush=True)
    if code != 0:
        print("   " + "\n   ".join(stderr.strip().splitlines()[-8:]), flush=True)
    return {
        "name": name,
        "returncode": code,
        "seconds": round(seconds, 2),
        "stdout": stdout,
        "stderr_tail": stderr[-4000:] if code != 0 else "",
        "json": data,
    }


def rows_of(result: dict) -> list[dict]:
    """The timed rows a benchmark wrote as JSON: ``[{"case", "seconds", ...}]``."""
    rows = []
    for key, data in result["json"].items():
        items = data.get("rows", []) if isinstance(data, dict) else data
        for r in items if isinstance(items, list) else []:
            if isinstance(r, dict) and "case" in r and isinstance(r.get("seconds"), (int, float)):
                group = r.get("bench") or (key if key != result["name"] else "")
                rows.append({**r, "group": group})
    return rows


def ratios_of(result: dict) -> dict:
    """Named ratios a benchmark wrote as JSON (``{"ratios": {...}}``)."""
    out = {}
    for data in result["json"].values():
        if isinstance(data, dict) and isinstance(data.get("ratios"), dict):
            out.update(data["ratios"])
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def markdown(results: list[dict], machine: dict, quick: bool, command: str) -> str:
    """``results.md``: the summary table, the ratios, then every printed report."""
    lines = [
        f"# Benchmark results ({machine['date']})",
        "",
        f"Command: `{command}`"
        + ("  (quick mode: smoke numbers, not for quoting)" if quick else ""),
        "",
        (
            f"Machine: {machine['cpu_count']} cores, Python {machine['python']}, NumPy "
            f"{machine['numpy']}, grumpy {machine['grumpy']}; peers: {machine['peers']}."
        ),
        "",
        "| benchmark | case | ms | details |",
        "| --- | --- | ---: | --- |",
    ]
    for res in results:
        for r in rows_of(res):
            extra = ", ".join(
                f"{k}={_fmt(v)}"
                for k, v in r.items()
                if k not in ("case", "seconds", "bench", "group")
                and not isinstance(v, (dict, list))
            )
            bench = res["name"].removeprefix("bench_") + (f" / {r['group']}" if r["group"] else "")
            lines.append(f"| {bench} | {r['case']} | {r['seconds'] * 1e3:,.2f} | {extra} |")
    ratios = [(res["name"], k, v) for res in results for k, v in ratios_of(res).items()]
    if ratios:
        lines += ["", "| benchmark | ratio | value |", "| --- | --- | ---: |"]
        lines += [f"| {n.removeprefix('bench_')} | {k} | {_fmt(v)} |" for n, k, v in ratios]
    lines += ["", "| benchmark | status | wall s |", "| --- | --- | ---: |"]
    for res in results:
        st = "ok" if res["returncode"] == 0 else f"failed ({res['returncode']})"
        lines.append(f"| {res['name']} | {st} | {res['seconds']:.1f} |")
    for res in results:
        lines += ["", f"## {res['name']}", "", "```text", res["stdout"].rstrip(), "```"]
        if res["returncode"] != 0:
            lines += ["", "stderr (tail):", "", "```text", res["stderr_tail"].rstrip(), "```"]
    return "\n".join(lines) + "\n"


PEERS = ("numpy", "awkward", "zarr", "scipy", "pykdtree", "scikit", "sklearn", "numba", "torch")


def _peer(label: str) -> bool:
    """True for a competitor's row (blue in the charts; grumpy's rows are orange)."""
    case = label.rsplit(": ", 1)[-1].lower()
    return any(p in case for p in PEERS)


def charts(results: list[dict], out: Path) -> list[str]:
    """One bar chart of times per benchmark with JSON rows; [] when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no charts (pip install matplotlib)")
        return []
    made = []
    for res in results:
        rows = rows_of(res)
        if not rows:
            continue
        labels = [(f"{r['group'][:40]}: " if r["group"] else "") + r["case"] for r in rows]
        ms = [r["seconds"] * 1e3 for r in rows]
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.2))
        colors = ["tab:blue" if _peer(lb) else "tab:orange" for lb in labels]
        ax.barh(range(len(rows)), ms, color=colors)
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("milliseconds (log scale, lower is better)")
        ax.set_title(res["name"])
        fig.tight_layout()
        path = out / f"{res['name']}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    return made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller data, fewer repeats")
    ap.add_argument("--only", default="", help="comma-separated names, e.g. core,stream")
    ap.add_argument("--out", default=None, help="results folder (default results/<timestamp>)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per benchmark")
    args = ap.parse_args(argv)
    sys.path.append(str(ROOT / "python"))  # the source tree, unless grumpy is installed
    import grumpy as gr

    # the benchmarks import the same grumpy as this process
    pkg_parent = str(Path(gr.__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (pkg_parent, os.environ.get("PYTHONPATH", "")) if p
    )

    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else ROOT / "results" / stamp
    out.mkdir(parents=True, exist_ok=True)
    info = gr.show_config(file=None)
    machine = {
        "date": stamp,
        "cpu_count": info["cpu_count"],
        "python": info["python"],
        "numpy": info["numpy"],
        "grumpy": info["grumpy"],
        "peers": ", ".join(f"{k} {v}" for k, v in info["peers"].items() if v) or "none",
    }
    scripts = discover([s for s in args.only.split(",") if s])
    results = [run_one(s, out / "raw", args.quick, args.timeout) for s in scripts]
    command = "python benches/python/run_all.py" + (" --quick" if args.quick else "")
    (out / "results.json").write_text(
        json.dumps({"machine": machine, "quick": args.quick, "benchmarks": results}, indent=1)
    )
    (out / "results.md").write_text(markdown(results, machine, args.quick, command))
    made = charts(results, out)
    failed = [r["name"] for r in results if r["returncode"] != 0]
    print(f"\nwrote {out}/results.json, results.md" + (f", {len(made)} charts" if made else ""))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

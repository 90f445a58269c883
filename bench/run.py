"""Runs every benchmark of this library and of PyTorch in one go and writes the tables.

    python3 bench/run.py BUILD_DIR [--quick]
    python3 bench/run.py --report          re-render bench/results.md from bench/results.json

Each measurement runs in its own process (so that peak RSS is that of one job), the library's side
first, then PyTorch's, with the same OpenBLAS thread count. Figures are medians over repetitions
inside the process; ratios compare medians of the same run. Writes bench/results.json,
bench/results.md and bench/scaling.png, and prints the Markdown.
"""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
V = 388  # Performance vocabulary: 128 note-on, 128 note-off, 100 time shifts, 32 velocities

CONFIGS = {  # name: (E, H, L, T, B)
    "main": (256, 512, 2, 128, 64),
    "perf-rnn 3x512": (256, 512, 3, 128, 64),
    "small": (128, 256, 2, 64, 32),
}
OPENMSX = "/usr/share/games/openttd/baseset/openmsx"
JSB = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "jsb-chorales"))


def run_json(cmd, threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS="1")
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def paired(ours_cmd, ref_cmd, threads, rounds):
    """Alternate the two programs `rounds` times, so that a change of the machine's load hits both
    sides alike; the per-repetition rates of all rounds are pooled (peak RSS: the largest)."""
    runs = ([], [])
    for _ in range(rounds):
        for side, cmd in enumerate((ours_cmd, ref_cmd)):
            runs[side].append(run_json(cmd, threads))
    pooled = []
    for side in runs:
        merged = dict(side[0])
        for key in ("tokens_per_s", "seconds"):
            if key in merged:
                merged[key] = [x for r in side for x in r[key]]
        if "peak_rss_kib" in merged:
            merged["peak_rss_kib"] = max(r["peak_rss_kib"] for r in side)
        pooled.append(merged)
    return pooled


class Bench:
    def __init__(self, build, quick):
        self.build = build
        self.quick = quick
        self.results = {"train": [], "ceiling": [], "sampling": [], "preprocess": [], "scaling": []}

    def exe(self, name):
        return os.path.join(self.build, "bench", name)

    def log(self, msg):
        print(msg, file=sys.stderr, flush=True)

    def train(self, name, cfg, threads, steps, reps, rounds=2):
        E, H, L, T, B = cfg
        args = [str(a) for a in (V, E, H, L, T, B, steps, reps)]
        ours, ref = paired([self.exe("bench_train"), "train"] + args,
                           [PY, os.path.join(HERE, "torch_bench.py"), "train"] + args, threads, rounds)
        row = {"config": name, "shape": cfg, "threads": threads,
               "ours": statistics.median(ours["tokens_per_s"]), "torch": statistics.median(ref["tokens_per_s"]),
               "ours_runs": ours["tokens_per_s"], "torch_runs": ref["tokens_per_s"],
               "ours_rss_kib": ours["peak_rss_kib"], "torch_rss_kib": ref["peak_rss_kib"],
               "torch_rss_after_import_kib": ref["rss_after_import_kib"],
               "params_ours": ours["params"], "params_torch": ref["params"]}
        row["ratio"] = row["ours"] / row["torch"]
        self.log(f"train {name} {threads}t: ours {row['ours']:.0f} torch {row['torch']:.0f} tok/s")
        return row

    def run_training(self):
        quick = self.quick
        plan = [("main", 1), ("main", 2), ("perf-rnn 3x512", 1), ("perf-rnn 3x512", 2), ("small", 1), ("small", 2)]
        if quick:
            plan = [("main", 1), ("main", 2), ("small", 1)]
        for name, threads in plan:
            cfg = CONFIGS[name]
            steps = 1 if name != "small" else 8
            reps = 2 if quick else (3 if name == "main" else 2)  # per round; 2 rounds (quick: 1)
            self.results["train"].append(self.train(name, cfg, threads, steps, reps, 1 if quick else 2))
        for threads in (1, 2):
            E, H, L, T, B = CONFIGS["main"]
            args = [str(a) for a in (V, E, H, L, T, B, 3 if quick else 5)]
            g = run_json([self.exe("bench_train"), "ceiling"] + args, threads)
            g["threads"] = threads
            g["percent_of_ceiling"] = 100.0 * g["tokens_per_s"] / g["ceiling_tokens_per_s"]
            self.results["ceiling"].append(g)
            self.log(f"ceiling {threads}t: {g['ceiling_tokens_per_s']:.0f} tok/s ({g['gflops']:.1f} GFLOP/s), "
                     f"steps alternating with it {g['tokens_per_s']:.0f}")

    def run_sampling(self):
        names = ["main", "small"] if self.quick else ["main", "perf-rnn 3x512", "small"]
        # Float weights for every shape; the opt-in bf16 copy (MRNN_WEIGHTS_BF16) at one lane, where
        # streaming the weights dominates (the full run only).
        plan = [(name, lanes, threads, False) for name in names for lanes in (1, 16) for threads in (1, 2)
                if not (self.quick and threads == 2 and name != "main")]
        if not self.quick:
            plan += [(name, 1, threads, True) for name in names for threads in (1, 2)]
        for name, lanes, threads, bf16 in plan:
            E, H, L, _, _ = CONFIGS[name]
            reps = 3
            ours_steps = 400 if lanes == 1 else 100
            ref_steps = 100 if lanes == 1 else 50
            ours, ref = paired([self.exe("bench_sampling")] + [str(a) for a in (E, H, L, lanes, ours_steps, reps)] +
                               (["bf16"] if bf16 else []),
                               [PY, os.path.join(HERE, "torch_bench.py"), "sampling"] +
                               [str(a) for a in (E, H, L, lanes, ref_steps, reps)], threads,
                               1 if self.quick else 2)
            name_shown = name + (", bf16 weights" if bf16 else "")
            row = {"config": name_shown, "lanes": lanes, "threads": threads,
                   "ours": statistics.median(ours["tokens_per_s"]), "torch": statistics.median(ref["tokens_per_s"]),
                   "ours_runs": ours["tokens_per_s"], "torch_runs": ref["tokens_per_s"]}
            row["ratio"] = row["ours"] / row["torch"]
            self.results["sampling"].append(row)
            self.log(f"sampling {name_shown} x{lanes} {threads}t: ours {row['ours']:.0f} torch {row['torch']:.0f}")

    def run_preprocess(self):
        # The multitrack encoding reads the drums too and sorts notes by instrument: its own row.
        sets = [("openmsx (Debian)", OPENMSX, []), ("openmsx, multitrack", OPENMSX, ["--multitrack"])]
        if os.path.isdir(JSB):
            sets.append(("jsb-chorales", JSB, []))
        else:
            self.log(f"preprocess: {JSB} absent, JSB chorales skipped")
        for name, root, flags in sets:
            files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                           if f.lower().endswith((".mid", ".midi")))
            reps = 3
            ours, ref = paired([self.exe("bench_preprocess"), str(reps)] + flags + files,
                               [PY, os.path.join(HERE, "torch_bench.py"), "mido", str(reps)] + files, 1,
                               1 if self.quick else 2)
            t_ours, t_ref = statistics.median(ours["seconds"]), statistics.median(ref["seconds"])
            row = {"corpus": name, "files": len(files), "events": ref["events"], "notes": ours["notes"],
                   "skipped_ours": ours["skipped"], "seconds_ours": t_ours, "seconds_mido": t_ref,
                   "files_per_s_ours": len(files) / t_ours, "files_per_s_mido": len(files) / t_ref,
                   "events_per_s_ours": ref["events"] / t_ours, "events_per_s_mido": ref["events"] / t_ref,
                   "ratio": t_ref / t_ours}
            self.results["preprocess"].append(row)
            self.log(f"preprocess {name}: {row['ratio']:.1f}x mido")

    def run_scaling(self):
        base = (256, 512, 2, 64, 32)
        sweeps = {"hidden": [128, 256, 512, 1024], "seq": [32, 64, 128, 256], "batch": [8, 32, 128]}
        if self.quick:
            sweeps = {"hidden": [128, 512, 1024], "seq": [32, 128], "batch": [8, 64]}
        index = {"hidden": 1, "seq": 3, "batch": 4}
        for axis, values in sweeps.items():
            for value in values:
                cfg = list(base)
                cfg[index[axis]] = value
                E, H, L, T, B = cfg
                steps = max(1, int(2 * 64 * 32 * (512 / H) ** 2 / (T * B)))
                row = self.train(f"{axis}={value}", tuple(cfg), 1, steps, 2, 1)
                row["axis"], row["value"] = axis, value
                self.results["scaling"].append(row)

    def plot(self, path):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        axes = ["hidden", "seq", "batch"]
        labels = {"hidden": "hidden size (2 layers, seq 64, batch 32)", "seq": "sequence length (2x512, batch 32)",
                  "batch": "batch size (2x512, seq 64)"}
        fig, ax = plt.subplots(2, 3, figsize=(14, 7.5))
        for k, axis in enumerate(axes):
            rows = [r for r in self.results["scaling"] if r["axis"] == axis]
            x = [r["value"] for r in rows]
            ax[0][k].plot(x, [r["ours"] for r in rows], "o-", label="libmusicrnn")
            ax[0][k].plot(x, [r["torch"] for r in rows], "s--", label="PyTorch 1.13")
            ax[1][k].plot(x, [r["ours_rss_kib"] / 1024 for r in rows], "o-", label="libmusicrnn")
            ax[1][k].plot(x, [r["torch_rss_kib"] / 1024 for r in rows], "s--", label="PyTorch 1.13")
            for row in (0, 1):
                ax[row][k].set_xscale("log", base=2)
                ax[row][k].set_xlabel(labels[axis])
                ax[row][k].grid(True, alpha=0.3)
            ax[0][k].set_yscale("log")
            ax[0][k].set_ylabel("training tokens/s (1 thread)")
            ax[1][k].set_ylabel("peak RSS (MiB)")
        ax[0][0].legend()
        fig.suptitle("Training throughput and peak memory, libmusicrnn vs PyTorch (Adam, vocab 388)")
        fig.tight_layout()
        fig.savefig(path, dpi=90)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def pkg(name):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True)
        return r.stdout or "?"

    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "openblas": pkg("libopenblas0-pthread"),
            "torch": pkg("python3-torch"), "mido": pkg("python3-mido"), "gcc": gcc, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_before": os.getloadavg(),
            # OpenBLAS picks its kernels by CPU unless told otherwise (OPENBLAS_CORETYPE): both sides use them
            "openblas_env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")}}


def fmt(x):
    return f"{x:,.0f}".replace(",", " ")


def markdown(res):
    m = res["machine"]
    out = [f"Machine: {m['cpu']}, {m['cores']} cores; OpenBLAS {m['openblas']}, PyTorch {m['torch']}, "
           f"mido {m['mido']}, gcc {m['gcc']}; {m['date']}; load average before/after "
           f"{m['load_before'][0]:.2f} / {m['load_after'][0]:.2f}; run took {m['seconds']:.0f} s"
           f"{' (--quick)' if res['quick'] else ''}."]
    env = m.get("openblas_env")
    if env:
        out[0] += " Environment: " + ", ".join(f"`{k}={v}`" for k, v in env.items()) + "."
    out.append("")
    out += ["### Training (tokens/s, Adam, softmax loss, clip 5; median)", "",
            "| config | threads | libmusicrnn | PyTorch | ratio |", "|---|---|---|---|---|"]
    for r in res["train"]:
        out.append(f"| {r['config']} | {r['threads']} | {fmt(r['ours'])} | {fmt(r['torch'])} | {r['ratio']:.2f}× |")
    out += ["", "### GEMM-bound ceiling, main config (training steps alternating with the step's GEMMs alone; "
            "median)", "",
            "| threads | sgemm GFLOP/s at the step's shapes | GFLOP per token | ceiling tokens/s | libmusicrnn | % of ceiling |",
            "|---|---|---|---|---|---|"]
    E, H, L, T, B = CONFIGS["main"]
    for g in res["ceiling"]:
        out.append(f"| {g['threads']} | {g['gflops']:.1f} | {g['flops_per_step'] / (T * B) * 1e-9:.4f} | "
                   f"{fmt(g['ceiling_tokens_per_s'])} | {fmt(g['tokens_per_s'])} | {g['percent_of_ceiling']:.0f} % |")
    out += ["", "### Peak RSS while training (VmHWM of the process)", "",
            "| config | threads | libmusicrnn MiB | PyTorch MiB (after `import torch`) | ratio |", "|---|---|---|---|---|"]
    for r in res["train"]:
        out.append(f"| {r['config']} | {r['threads']} | {r['ours_rss_kib'] / 1024:.0f} | {r['torch_rss_kib'] / 1024:.0f} "
                   f"({r['torch_rss_after_import_kib'] / 1024:.0f}) | {r['ours_rss_kib'] / r['torch_rss_kib']:.2f}× |")
    out += ["", "### Sampling (tokens/s summed over lanes; median)", "",
            "| config | lanes | threads | libmusicrnn | PyTorch | ratio |", "|---|---|---|---|---|---|"]
    for r in res["sampling"]:
        out.append(f"| {r['config']} | {r['lanes']} | {r['threads']} | {fmt(r['ours'])} | {fmt(r['torch'])} | "
                   f"{r['ratio']:.1f}× |")
    out += ["", "### Preprocessing (libmusicrnn: read + validate + parse + encode; mido: parse + iterate; 1 thread)", "",
            "| corpus | files | MIDI events | libmusicrnn files/s | events/s | mido files/s | events/s | ratio |",
            "|---|---|---|---|---|---|---|---|"]
    for r in res["preprocess"]:
        out.append(f"| {r['corpus']} | {r['files']} | {r['events']} | {fmt(r['files_per_s_ours'])} | "
                   f"{fmt(r['events_per_s_ours'])} | {fmt(r['files_per_s_mido'])} | {fmt(r['events_per_s_mido'])} | "
                   f"{r['ratio']:.0f}× |")
    out += ["", "### Scaling (1 thread; base 2×512, embed 256, seq 64, batch 32)", "",
            "| point | libmusicrnn tokens/s | PyTorch tokens/s | ratio | libmusicrnn MiB | PyTorch MiB |",
            "|---|---|---|---|---|---|"]
    for r in res["scaling"]:
        out.append(f"| {r['config']} | {fmt(r['ours'])} | {fmt(r['torch'])} | {r['ratio']:.2f}× | "
                   f"{r['ours_rss_kib'] / 1024:.0f} | {r['torch_rss_kib'] / 1024:.0f} |")
    return "\n".join(out) + "\n"


def targets(res):
    """The targets of issue #7, each with the figure of this run that decides it."""
    rows = []

    def add(figure, target, value, ok):
        rows.append(f"| {figure} | {target} | {value} | {'yes' if ok else '**no**'} |")

    for r in res["train"]:
        if r["config"] == "main":
            goal = 1.2 if r["threads"] == 1 else 1.6
            add(f"training main, {r['threads']} thread(s)", f"≥ {goal}× PyTorch", f"{r['ratio']:.2f}×", r["ratio"] >= goal)
    for g in res["ceiling"]:
        if g["threads"] == 1:
            add("training main, 1 thread", "≥ 85 % of the GEMM ceiling", f"{g['percent_of_ceiling']:.0f} %",
                g["percent_of_ceiling"] >= 85)
    for r in res["sampling"]:
        goal = 5.0 if r["lanes"] == 1 else 2.0
        add(f"sampling {r['config']}, {r['lanes']} lane(s), {r['threads']} thread(s)", f"≥ {goal:.0f}× PyTorch",
            f"{r['ratio']:.1f}×", r["ratio"] >= goal)
    for r in res["train"]:
        if r["config"] == "main":
            q = r["ours_rss_kib"] / r["torch_rss_kib"]
            add(f"peak RSS training main, {r['threads']} thread(s)", "≤ 0.5× PyTorch", f"{q:.2f}×", q <= 0.5)
    for r in res["preprocess"]:
        add(f"preprocessing {r['corpus']}", "≥ 20× mido", f"{r['ratio']:.1f}×", r["ratio"] >= 20)
    return "\n".join(["| figure | target | this run | holds |", "|---|---|---|---|"] + rows) + "\n"


def main():
    if sys.argv[1:2] == ["--report"]:  # re-render the tables of the last run into results.md
        with open(os.path.join(HERE, "results.json")) as f:
            res = json.load(f)
        md = markdown(res) + "\n### Targets (issue #7)\n\n" + targets(res)
        with open(os.path.join(HERE, "results.md"), "w") as f:
            f.write(md)
        print(md)
        return
    build = sys.argv[1]
    quick = "--quick" in sys.argv[2:]
    t0 = time.time()
    res = {"quick": quick, "machine": machine()}
    b = Bench(build, quick)
    b.run_training()
    b.run_sampling()
    b.run_preprocess()
    b.run_scaling()
    res.update(b.results)
    res["machine"]["load_after"] = os.getloadavg()
    res["machine"]["seconds"] = time.time() - t0
    with open(os.path.join(HERE, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    md = markdown(res) + "\n### Targets (issue #7)\n\n" + targets(res)
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write(md)
    b.plot(os.path.join(HERE, "scaling.png"))
    print(md)


if __name__ == "__main__":
    main()

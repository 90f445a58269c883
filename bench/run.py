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


def run_json(cmd, threads, extra_env=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS="1", **(extra_env or {}))
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
        self.results = {"train": [], "ceiling": [], "sampling": [], "preprocess": [], "scaling": [],
                         "machine_ceilings": {}, "kernels": []}

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

    def run_ceilings(self):
        """The machine's own ceilings (bench/ceilings.c), measured in this run, with the read
        bandwidth at each batch-1 sampling row's share of the weights per thread."""
        shares = sorted({(share_kib(cfg, bf16, threads), threads) for cfg in CONFIGS.values()
                         for bf16 in (False, True) for threads in (1, 2)})
        c = run_json([self.exe("ceilings"), "--shares", ",".join(f"{k}@{t}" for k, t in shares)], 1)
        self.results["machine_ceilings"] = c
        self.log("ceilings: FMA " + ", ".join(f"{k[4:-7]} {v:.0f}" for k, v in c.items() if k.startswith("fma_")) +
                 "".join(f", bf16 dot {k[13:-7]} {v:.0f}" for k, v in c.items() if k.startswith("dot_bf16_zmm_")) +
                 " GFLOP/s; read " + ", ".join(f"{k[5:-4]} {v:.0f}" for k, v in c.items() if k.startswith("read_") and
                                              k.endswith("_gbs")) + " GB/s")

    def run_kernels(self):
        """The kernel paths (MUSICRNN_KERNEL, lib/compute.h) A/B in one process, main config: one step
        of each path in turn, so that the machine's load hits them alike."""
        E, H, L, T, B = CONFIGS["main"]
        for threads in (1, 2):
            reps = 3 if self.quick else 5
            args = [str(a) for a in (V, E, H, L, T, B, reps)] + ([] if self.quick or threads == 2 else ["generic"])
            k = run_json([self.exe("bench_train"), "kernels"] + args, threads)
            for path, rates in k["tokens_per_s"].items():
                cpu = k["cpu_tokens_per_s"][path]
                self.results["kernels"].append({"path": path, "threads": threads, "runs": rates,
                                                "ours": statistics.median(rates), "cpu_runs": cpu,
                                                "per_cpu_second": statistics.median(cpu)})
            self.log(f"kernels {threads}t: " + ", ".join(f"{p} {statistics.median(r):.0f}"
                                                        for p, r in k["tokens_per_s"].items()) + " tok/s")

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
            row = {"config": name_shown, "lanes": lanes, "threads": threads, "shape": CONFIGS[name], "bf16": bf16,
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


def train_flops_per_token(cfg):
    """Multiply-adds x 2 of one training token: forward, the gradient into the inputs and the
    weight gradient, each the same products (layer 0's input counted nominally, as the GEMM
    ceiling does)."""
    E, H, L, _, _ = cfg
    fwd = sum(2 * 4 * H * ((E if l == 0 else H) + H) for l in range(L)) + 2 * V * H
    return 3.0 * fwd


def sampling_weight_bytes(cfg, bf16):
    """Bytes one batch-1 sampling step streams: the packed LSTM layers (layer 0 without W_ih: the
    table serves it, lib/infer_weights.h) and the output layer."""
    E, H, L, _, _ = cfg
    n = 4 * H * H + sum(4 * H * (H + H) for _ in range(1, L)) + V * H
    return n * (2 if bf16 else 4)


def share_kib(cfg, bf16, threads):
    """KiB of the weights each of `threads` threads streams per batch-1 step (ceilings --shares)."""
    return -(-sampling_weight_bytes(cfg, bf16) // (1024 * threads))


def share_bandwidth(c, r):
    """GB/s of r's threads each reading its share of the weights, when this run measured it."""
    return c.get(f"read_share_{share_kib(tuple(r['shape']), r['bf16'], r['threads'])}k_{r['threads']}t_gbs")


def fma_peak(c, threads, ymm=False):
    key = f"fma_{'ymm' if ymm else 'zmm'}_{threads}t_gflops"
    return c.get(key) or c.get(f"fma_ymm_{threads}t_gflops")


def level_of(c, nbytes, threads):
    """The cache level a step's weights live in: each thread streams its share of them."""
    if nbytes <= threads * c["l2_bytes"]:
        return "l2"
    if nbytes <= c["l3_bytes"]:
        return "l3"
    return "dram"


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
    out += ceilings_markdown(res)
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


def ceilings_markdown(res):
    """The machine's ceilings of this run and every figure as a share of the one that bounds it."""
    c = res.get("machine_ceilings")
    if not c:
        return []
    out = ["", "### The machine's ceilings (bench/ceilings.c, this run; best of 5)", "",
           "| ceiling | 1 thread | 2 threads |", "|---|---|---|"]
    for w in ("zmm", "ymm"):
        if f"fma_{w}_1t_gflops" in c:
            out.append(f"| FMA peak, {w.upper()} (GFLOP/s) | {c[f'fma_{w}_1t_gflops']:.1f} | {c[f'fma_{w}_2t_gflops']:.1f} |")
    if "dot_bf16_zmm_1t_gflops" in c:
        out.append(f"| bf16 dot products, ZMM (vdpbf16ps, GFLOP/s) | {c['dot_bf16_zmm_1t_gflops']:.1f} | "
                   f"{c['dot_bf16_zmm_2t_gflops']:.1f} |")
    sizes = c.get("read_buffer_bytes", {})
    for lv in ("l2", "l3", "dram"):
        note = "" if lv != "dram" or c.get("dram_beyond_l3") else ", may be cache: the reported L3 is larger"
        out.append(f"| read {lv.upper()} (GB/s, {sizes.get(lv, 0) / 2**20:.0f} MiB buffer{note}) | "
                   f"{c[f'read_{lv}_1t_gbs']:.1f} | {c[f'read_{lv}_2t_gbs']:.1f} |")
    out += ["", "Training as a share of the FMA peak (FLOPs: forward, input gradient and weight gradient per token):", "",
            "| config | threads | tokens/s | GFLOP/s | % of FMA peak |", "|---|---|---|---|---|"]
    for r in res["train"]:
        f = train_flops_per_token(tuple(r["shape"])) * r["ours"] * 1e-9
        out.append(f"| {r['config']} | {r['threads']} | {fmt(r['ours'])} | {f:.1f} | "
                   f"{100 * f / fma_peak(c, r['threads']):.0f} % |")
    if res.get("kernels"):
        out += ["", "Kernel paths, main config (MUSICRNN_KERNEL; one step of each in turn, one process; median):", "",
                "| path | threads | tokens/s | GFLOP/s | % of its FMA peak | × OpenBLAS path | tokens per CPU-second | × OpenBLAS |",
                "|---|---|---|---|---|---|---|---|"]
        f_tok = train_flops_per_token(CONFIGS["main"])
        for r in res["kernels"]:
            base = next(k["ours"] for k in res["kernels"] if k["path"] == "openblas" and k["threads"] == r["threads"])
            f = f_tok * r["ours"] * 1e-9
            peak = fma_peak(c, r["threads"], ymm=r["path"] == "avx2")
            cbase = next(k.get("per_cpu_second", 0) for k in res["kernels"]
                         if k["path"] == "openblas" and k["threads"] == r["threads"])
            cpu = r.get("per_cpu_second", 0)
            out.append(f"| {r['path']} | {r['threads']} | {fmt(r['ours'])} | {f:.1f} | {100 * f / peak:.0f} % "
                       f"({'YMM' if r['path'] == 'avx2' else 'ZMM'}) | {r['ours'] / base:.2f}× | {fmt(cpu)} | "
                       f"{cpu / cbase if cbase else 0:.2f}× |")
    out += ["", "Batch-1 sampling as a share of the read bandwidth of the level its weights fit in, and of reading "
            "each thread's share of the weights over and over (ceilings --shares: a share near a cache's size is "
            "read slower than that cache's figure):", "",
            "| config | threads | weights MiB | level | tokens/s | GB/s | % of that level's bandwidth | "
            "share per thread KiB | reading it, GB/s | % of that |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["sampling"]:
        if r["lanes"] != 1 or "shape" not in r:
            continue
        nb = sampling_weight_bytes(r["shape"], r["bf16"])
        lv = level_of(c, nb, r["threads"])
        gbs = nb * r["ours"] * 1e-9
        bw = c[f"read_{lv}_{r['threads']}t_gbs"]
        sb = share_bandwidth(c, r)
        share = (f"{share_kib(tuple(r['shape']), r['bf16'], r['threads'])} | {sb:.0f} | {100 * gbs / sb:.0f} %"
                 if sb else "— | — | —")
        out.append(f"| {r['config']} | {r['threads']} | {nb / 2**20:.1f} | {lv.upper()} | {fmt(r['ours'])} | {gbs:.1f} | "
                   f"{100 * gbs / bw:.0f} % | {share} |")
    return out


def targets18(res):
    """The targets of issue #18 against this run's own ceilings."""
    c = res.get("machine_ceilings")
    if not c:
        return ""
    rows = []

    def add(figure, target, value, ok):
        rows.append(f"| {figure} | {target} | {value} | {'yes' if ok else '**no**'} |")

    f_tok = train_flops_per_token(CONFIGS["main"])
    main = {r["threads"]: r for r in res["train"] if r["config"] == "main"}
    if 1 in main:
        share = 100 * f_tok * main[1]["ours"] * 1e-9 / fma_peak(c, 1)
        add("training main, 1 thread", "≥ 80 % of the 1-core FMA peak", f"{share:.0f} %", share >= 80)
    if 1 in main and 2 in main:
        q = main[2]["ours"] / main[1]["ours"]
        add("training main, 2 threads", "≥ 1.85× 1 thread", f"{q:.2f}×", q >= 1.85)
    k = {(r["path"], r["threads"]): r["ours"] for r in res.get("kernels", [])}
    if ("avx2", 1) in k:
        share = 100 * f_tok * k[("avx2", 1)] * 1e-9 / fma_peak(c, 1, ymm=True)
        add("forced AVX2, main, 1 thread", "≥ 70 % of the YMM FMA peak", f"{share:.0f} %", share >= 70)
        q = k[("avx2", 1)] / k[("openblas", 1)]
        # What 1.3x the OpenBLAS path means in the AVX2 kernel's own terms: with OpenBLAS at its
        # AVX2 kernel (OPENBLAS_CORETYPE=Haswell) close to the YMM peak, 1.3x of it may exceed 100 %
        # of that peak, which no AVX2 kernel can reach.
        ob = 100 * f_tok * k[("openblas", 1)] * 1e-9 / fma_peak(c, 1, ymm=True)
        coretype = os.environ.get("OPENBLAS_CORETYPE", "unset: OpenBLAS's own choice")
        add("forced AVX2, main, 1 thread", "≥ 1.3× the OpenBLAS path",
            f"{q:.2f}× (OpenBLAS path, OPENBLAS_CORETYPE={coretype}: {ob:.0f} % of the YMM peak, "
            f"so 1.3× would be {1.3 * ob:.0f} % of it)", q >= 1.3)
    for r in res["sampling"]:
        if r["lanes"] == 1 and "shape" in r:
            nb = sampling_weight_bytes(r["shape"], r["bf16"])
            lv = level_of(c, nb, r["threads"])
            share = 100 * nb * r["ours"] * 1e-9 / c[f"read_{lv}_{r['threads']}t_gbs"]
            sb = share_bandwidth(c, r)
            own = f" ({100 * nb * r['ours'] * 1e-9 / sb:.0f} % of reading its share, {sb:.0f} GB/s)" if sb else ""
            add(f"sampling {r['config']}, 1 lane, {r['threads']} thread(s)", f"≥ 80 % of {lv.upper()} bandwidth",
                f"{share:.0f} %{own}", share >= 80)
    return "\n".join(["| figure | target | this run | holds |", "|---|---|---|---|"] + rows) + "\n"


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
        if res.get("machine_ceilings"):
            md += "\n### Targets (issue #18: shares of this run's own ceilings)\n\n" + targets18(res)
        with open(os.path.join(HERE, "results.md"), "w") as f:
            f.write(md)
        print(md)
        return
    build = sys.argv[1]
    quick = "--quick" in sys.argv[2:]
    t0 = time.time()
    res = {"quick": quick, "machine": machine()}
    b = Bench(build, quick)
    b.run_ceilings()
    b.run_training()
    b.run_kernels()
    b.run_sampling()
    b.run_preprocess()
    b.run_scaling()
    res.update(b.results)
    res["machine"]["load_after"] = os.getloadavg()
    res["machine"]["seconds"] = time.time() - t0
    with open(os.path.join(HERE, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    md = markdown(res) + "\n### Targets (issue #7)\n\n" + targets(res)
    md += "\n### Targets (issue #18: shares of this run's own ceilings)\n\n" + targets18(res)
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write(md)
    b.plot(os.path.join(HERE, "scaling.png"))
    print(md)


if __name__ == "__main__":
    main()

"""The PyTorch side of the benchmarks: the same measurements as bench_train / bench_sampling, with
nn.Embedding -> nn.LSTM -> nn.Linear, and python3-mido for the preprocessing comparison.

    torch_bench.py train V E H L T B STEPS REPS
    torch_bench.py sampling E H L LANES STEPS REPS
    torch_bench.py mido REPS FILE...

Prints one JSON line in the format of the C programs. Torch's own (OpenMP) thread pool is pinned
to one thread; OpenBLAS, which does Debian torch's GEMMs, takes OPENBLAS_NUM_THREADS like the C
side. Both pools at two threads oversubscribe this machine's two cores and run 2-4x slower.
"""
import json
import sys
import time


def peak_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def current_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Net:
    """Embedding -> LSTM stack -> Linear, the shape of the library's network."""

    def __init__(self, torch, V, E, H, L):
        nn = torch.nn
        self.embed = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, L)
        self.out = nn.Linear(H, V)
        self.modules = nn.ModuleList([self.embed, self.lstm, self.out])

    def __call__(self, tokens, state=None):
        y, state = self.lstm(self.embed(tokens), state)
        return self.out(y), state


def train(torch, V, E, H, L, T, B, steps, reps):
    baseline = current_rss_kib()
    torch.manual_seed(7)
    net = Net(torch, V, E, H, L)
    params = list(net.modules.parameters())
    opt = torch.optim.Adam(params, lr=0.002, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randint(0, V, (T, B))
    y = torch.randint(0, V, (T, B))

    def step():
        opt.zero_grad(set_to_none=True)
        logits, _ = net(x)
        loss = loss_fn(logits.reshape(T * B, V), y.reshape(T * B))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()

    step()  # warm-up
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(T * B * steps / (time.perf_counter() - t0))
    return {"mode": "train", "params": sum(p.numel() for p in params), "tokens_per_s": rates,
            "peak_rss_kib": peak_rss_kib(), "rss_after_import_kib": baseline}


def sampling(torch, E, H, L, lanes, steps, reps, V=388):
    torch.manual_seed(7)
    net = Net(torch, V, E, H, L)
    rates = []
    with torch.inference_mode():
        for rep in range(reps + 1):  # rep 0: warm-up
            n = 8 if rep == 0 else steps
            tok = torch.zeros((1, lanes), dtype=torch.long)
            state = None
            t0 = time.perf_counter()
            for _ in range(n):
                logits, state = net(tok, state)
                probs = torch.softmax(logits[0], dim=-1)
                tok = torch.multinomial(probs, 1).reshape(1, lanes)
            if rep:
                rates.append(lanes * n / (time.perf_counter() - t0))
    return {"mode": "sampling", "vocab": V, "tokens_per_s": rates}


def mido_parse(reps, files):
    import mido
    seconds = []
    events = 0
    for _ in range(reps):
        events = 0
        t0 = time.perf_counter()
        for path in files:
            mid = mido.MidiFile(path)
            for track in mid.tracks:
                for _msg in track:
                    events += 1
        seconds.append(time.perf_counter() - t0)
    return {"mode": "mido", "seconds": seconds, "files": len(files), "events": events}


def main(argv):
    mode = argv[1]
    if mode == "mido":
        out = mido_parse(int(argv[2]), argv[3:])
    else:
        import torch
        torch.set_num_threads(1)
        args = [int(a) for a in argv[2:]]
        out = train(torch, *args) if mode == "train" else sampling(torch, *args)
        out["torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)

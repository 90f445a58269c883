"""Two samplers on one model in two Python threads give what sequential runs give."""
import threading

import pytest

import musicrnn


def run(model, seed, out, key):
    with model.sampler(rng_seed=seed, temperature=1.0) as s:
        s.prime_text("W:q")
        s.generate(300)
        out[key] = [int(t) for t in s.tokens()]


def test_parallel_samplers_match_sequential(model):
    sequential = {}
    run(model, 1, sequential, 1)
    run(model, 2, sequential, 2)
    assert sequential[1] != sequential[2]

    parallel = {}
    threads = [threading.Thread(target=run, args=(model, seed, parallel, seed)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert parallel == sequential


def test_sampler_threads_field(model):
    # mrnn_sampler_params.threads (version 3): who computes, not what.
    pieces = []
    for threads in (1, 2, 0):
        with model.sampler(rng_seed=3, threads=threads) as s:
            s.prime_text("W:q")
            s.generate(200)
            pieces.append([int(t) for t in s.tokens()])
    assert pieces[0] == pieces[1] == pieces[2]
    with pytest.raises(musicrnn.MusicRNNError):
        model.sampler(threads=257)


def test_other_threads_run_while_c_generates(model):
    # ctypes releases the GIL during a call: a Python thread keeps counting meanwhile. A smoke
    # check only: the switch interval would also let it count a little around the call.
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        with model.sampler(rng_seed=3) as s:
            before = counter[0]
            s.generate(400)  # no Python callback: the whole call runs without the GIL
            during = counter[0] - before
    finally:
        stop.set()
        t.join()
    assert during > 0

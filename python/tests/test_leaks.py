"""No leaks over 10 000 create/free cycles: the resident set stays bounded."""
import gc
import os

import musicrnn

CYCLES = 10_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def cycle(model, vocab_params):
    with musicrnn.Vocab(**vocab_params) as v:
        v.parse("NOTE_ON_60 TIME_SHIFT_10")
    with musicrnn.Corpus(encoding="pianoroll") as c:
        c.vocab  # a borrowed view
    s = model.sampler(rng_seed=1)
    s.prime_text("W:q")
    s.generate(1)
    del s  # freed by its finalizer, not by close()
    try:
        musicrnn.Vocab.load("/nonexistent/v.mrv")
    except musicrnn.MusicRNNError:
        pass


def test_create_free_cycles_do_not_grow(model):
    params = {"encoding": "performance"}
    for _ in range(200):  # warm up allocator pools and caches
        cycle(model, params)
    gc.collect()
    before = rss_bytes()
    for _ in range(CYCLES):
        cycle(model, params)
    gc.collect()
    growth = rss_bytes() - before
    print(f"RSS growth over {CYCLES} cycles: {growth / 1024:.0f} KiB")
    # One leaked sampler or vocabulary per cycle would be tens of megabytes.
    assert growth < 4 * 1024 * 1024

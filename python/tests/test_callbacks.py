"""Progress and streaming callbacks: called, able to cancel, exceptions carried across C."""
import math

import pytest

import musicrnn


class Boom(Exception):
    pass


def small_model(corpus):
    return musicrnn.Model(corpus.vocab, embed_size=8, hidden_size=16, num_layers=1)


TRAIN = dict(seq_len=16, batch_size=2, valid_every=4)


def test_progress_is_called_every_step(corpus):
    seen = []
    with small_model(corpus) as m:
        assert m.train(corpus, progress=seen.append, max_steps=8, **TRAIN) is True
        assert m.steps_trained == 8
    assert [p.step for p in seen] == list(range(1, 9))
    assert all(p.total_steps == 8 and p.train_loss > 0 for p in seen)
    measured = [p for p in seen if not math.isnan(p.valid_loss)]
    assert [p.step for p in measured] == [4, 8]


def test_progress_can_cancel(corpus):
    with small_model(corpus) as m:
        assert m.train(corpus, progress=lambda p: p.step >= 3, max_steps=50, **TRAIN) is False
        assert m.steps_trained == 3


def test_exception_in_progress_propagates(corpus):
    calls = []

    def progress(p):
        calls.append(p.step)
        if p.step == 2:
            raise Boom("from the callback")

    with small_model(corpus) as m:
        with pytest.raises(Boom, match="from the callback"):
            m.train(corpus, progress=progress, max_steps=50, **TRAIN)
        assert calls == [1, 2] and m.steps_trained == 2  # stopped at once, not after 50 steps
        assert m.train(corpus, max_steps=4, **TRAIN)  # and the model is still usable


def test_sample_events_stream(model):
    events = []
    with model.sampler(rng_seed=9, n_lanes=2) as s:
        s.prime_text("W:q")
        assert s.generate(12, on_event=events.append) is True
        for lane in (0, 1):
            mine = [e for e in events if e.lane == lane]
            assert [e.step for e in mine] == list(range(1, 13))  # step 0 is the kept primer
            assert [e.token for e in mine] == [int(t) for t in s.tokens(lane)[1:]]
            assert all(e.text == model.vocab.token_text(e.token) and 0 < e.probability <= 1 for e in mine)


def test_sample_callback_cancel_and_exception(model):
    with model.sampler(rng_seed=9) as s:
        assert s.generate(100, on_event=lambda e: e.step >= 5) is False
        assert len(s.tokens()) == 6  # steps 0-5: the step that said "stop" is kept
    with model.sampler(rng_seed=9) as s:
        def bad(e):
            raise Boom(f"step {e.step}")
        with pytest.raises(Boom, match="step 0"):
            s.generate(100, on_event=bad)
        assert len(s.tokens()) == 1


def test_ctrl_c_during_training_raises_keyboard_interrupt(corpus):
    import os
    import signal
    import threading

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not handled by Python's default handler here")
    # The signal arrives while C code trains; Python notices it on entry to the next callback,
    # where an exception could not be caught. The bridge must turn it into a clean stop.
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    with small_model(corpus) as m:
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                m.train(corpus, progress=lambda p: None, max_steps=10**7, seq_len=16, batch_size=2, valid_every=0)
        finally:
            timer.cancel()
        assert 0 < m.steps_trained < 10**7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored

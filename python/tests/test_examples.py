"""python/examples/train_and_generate.py runs end to end (with few steps) and writes its outputs."""
import os
import subprocess
import sys

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "train_and_generate.py")


def test_train_and_generate(corpus_dir, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, EXAMPLE, corpus_dir, "--out", str(out), "--steps", "10",
                        "--hidden", "32", "--length", "60"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "step 10/10" in r.stdout
    assert (out / "generated.mid").read_bytes()[:4] == b"MThd"
    assert len((out / "train.csv").read_text().splitlines()) == 11  # header + one row per step
    try:
        import matplotlib  # noqa: F401
        import mido  # noqa: F401
    except ImportError:
        return
    for png in ("loss.png", "generated.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

"""docs/TUTORIAL.md runs as written: its Python blocks as one script, its C blocks as one program.

The tutorial reads the default corpus from its Debian path, so these tests skip without it.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

from musicrnn import _lib

TUTORIAL = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "TUTORIAL.md")


def blocks(language):
    with open(TUTORIAL, encoding="utf-8") as f:
        return re.findall(r"^```" + language + r"\n(.*?)^```", f.read(), flags=re.S | re.M)


def check_outputs(workdir):
    with open(os.path.join(workdir, "new.mid"), "rb") as f:
        assert f.read(4) == b"MThd"
    with open(os.path.join(workdir, "train.csv")) as f:
        assert len(f.readlines()) > 100  # a header and a row per step
    assert os.path.getsize(os.path.join(workdir, "openmsx.mrm")) > 0


def test_python_part_runs_unchanged(corpus_dir, tmp_path):
    code = "\n".join(blocks("python"))
    assert "musicrnn.Corpus" in code and "write_midi" in code
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "wrote new.mid" in r.stdout and "validation:" in r.stdout
    check_outputs(tmp_path)


def test_c_part_builds_and_runs(corpus_dir, tmp_path):
    header = os.environ.get("MUSICRNN_HEADER")
    cc = os.environ.get("CC") or shutil.which("cc")
    if not header or not cc:
        sys.stderr.write("skipping: MUSICRNN_HEADER or a C compiler is missing\n")
        pytest.skip("MUSICRNN_HEADER or a C compiler is missing")
    source = tmp_path / "tutorial.c"
    source.write_text("\n".join(blocks("c")))
    include_root = os.path.dirname(os.path.dirname(header))  # for <musicrnn/musicrnn.h>
    cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-I" + include_root]
    if os.environ.get("MUSICRNN_HEADER_INCLUDES"):
        cmd.append("-I" + os.environ["MUSICRNN_HEADER_INCLUDES"])
    library = _lib.lib._name  # the very library the Python package uses
    cmd += ["-o", str(tmp_path / "tutorial"), str(source), library, "-Wl,-rpath," + os.path.dirname(library)]
    subprocess.run(cmd, check=True)
    r = subprocess.run([str(tmp_path / "tutorial")], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "wrote new.mid" in r.stdout
    check_outputs(tmp_path)

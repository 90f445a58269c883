"""Every public function of musicrnn.h says how it may be used from threads and who owns what.

Doxygen (WARN_NO_PARAMDOC, warnings as errors) already enforces a documented parameter list and
return value; these checks cover what Doxygen cannot: a thread-safety statement on every
function, and an ownership statement where memory changes hands (handles created or loaded,
pointers returned).
"""
import os
import re
import sys

import pytest


def declarations():
    header = os.environ.get("MUSICRNN_HEADER")
    if not header:
        sys.stderr.write("skipping: MUSICRNN_HEADER is not set\n")
        pytest.skip("MUSICRNN_HEADER is not set")
    with open(header, encoding="utf-8") as f:
        text = f.read()
    # A doc comment immediately followed by an MRNN_API declaration.
    pattern = re.compile(r"/\*\*((?:(?!\*/).)*)\*/\s*MRNN_API\s+([^;(]*?)\b(mrnn_\w+)\s*\(([^;]*)\);", re.S)
    found = [(m.group(3), m.group(2).strip(), m.group(4), m.group(1)) for m in pattern.finditer(text)]
    declared = set(re.findall(r"MRNN_API\s+[^;(]*?\b(mrnn_\w+)\s*\(", text))
    return found, declared


def test_every_function_has_a_doc_comment():
    found, declared = declarations()
    assert declared and {name for name, *_ in found} == declared


def test_thread_safety_is_stated():
    found, _ = declarations()
    missing = [name for name, _, _, doc in found if not re.search(r"thread", doc, re.I)]
    assert not missing, "no thread-safety statement: " + ", ".join(missing)


def test_ownership_is_stated():
    found, _ = declarations()
    words = re.compile(r"ownership|owned|owns|borrow|caller|static|free", re.I)
    missing = []
    for name, result, args, doc in found:
        gives_handle = re.search(r"\*\*\s*out\b", args)  # constructors: who frees the result
        returns_pointer = "*" in result               # getters: borrowed or static
        if (gives_handle or returns_pointer) and not words.search(doc):
            missing.append(name)
    assert not missing, "no ownership statement: " + ", ".join(missing)

#!/usr/bin/python3
"""Keep debian/ in step with the build (run by meson test, suite 'abi').

    check_debian.py symbols MAP debian/libmusicrnn0.symbols [--print]
        Every symbol of every node of the version script is listed, with its node, and with the
        release that introduced it: node MUSICRNN_a.b is release a.b.0. The node names themselves
        are listed too (ld exports them as symbols). Nothing else is listed. --print writes the
        expected symbol lines instead (for the integrator adding a node).
    check_debian.py version MESON_VERSION debian/changelog [python/musicrnn/__init__.py]
        The upstream part of the newest changelog entry, and the Python package's __version__,
        are the meson project version (and that entry is not dated in the future), the one source of the version number (the C headers and
        the manual page are generated from it; these two files cannot be).
"""
import datetime
import email.utils
import re
import sys


def map_nodes(path):
    """[(node, [symbols])] in file order."""
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    nodes = []
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\{(.*?)\}\s*[A-Za-z0-9_.]*\s*;", text, flags=re.S):
        body = m.group(2)
        glob = re.search(r"global:(.*?)(?:local:|$)", body, flags=re.S)
        syms = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*;", glob.group(1) if glob else "")
        nodes.append((m.group(1), syms))
    return nodes


def release_of(node):
    m = re.fullmatch(r"MUSICRNN_(\d+)\.(\d+)", node)
    if not m:
        sys.exit(f"check_debian: node {node} is not named MUSICRNN_<major>.<minor>")
    return f"{m.group(1)}.{m.group(2)}.0"


def expected_lines(nodes):
    lines = {}
    for node, syms in nodes:
        rel = release_of(node)
        lines[f"{node}@{node}"] = rel
        for s in syms:
            lines[f"{s}@{node}"] = rel
    return lines


def symbols(map_path, symbols_path, show):
    want = expected_lines(map_nodes(map_path))
    if show:
        for key in sorted(want):
            print(f" {key} {want[key]}")
        return 0
    have = {}
    with open(symbols_path) as f:
        for line in f:
            # Symbol lines start with one space; the header line and '*' / '|' / '#' lines do not.
            if line.startswith(" "):
                parts = line.split()
                have[parts[0]] = parts[1] if len(parts) > 1 else ""
    bad = []
    for key in sorted(set(want) | set(have)):
        if key not in have:
            bad.append(f"missing: ' {key} {want[key]}'")
        elif key not in want:
            bad.append(f"not in {map_path}: '{key}'")
        elif have[key] != want[key]:
            bad.append(f"{key}: version {have[key]}, but its node {key.split('@')[1]} is release {want[key]}")
    if bad:
        print(f"{symbols_path} does not match {map_path}:")
        print("\n".join("  " + b for b in bad))
        return 1
    print(f"{symbols_path}: {len(want)} symbols, each with its node and release, as in the version script")
    return 0


def python_version(meson_version, init_py):
    with open(init_py) as f:
        m = re.search(r'^__version__ = "([^"]*)"', f.read(), flags=re.M)
    if not m:
        print(f"{init_py}: no __version__ line")
        return 1
    if m.group(1) != meson_version:
        print(f"{init_py} says __version__ {m.group(1)}, meson.build {meson_version}")
        return 1
    print(f"{init_py}: __version__ {m.group(1)} matches meson")
    return 0


def version(meson_version, changelog):
    with open(changelog) as f:
        first = f.readline()
    m = re.match(r"\S+ \(((?:\d+:)?)([^)]+?)(-[^-)]+)?\)", first)
    if not m:
        print(f"{changelog}: cannot read the version of the first line: {first.strip()}")
        return 1
    upstream = m.group(2)
    if upstream != meson_version:
        print(f"{changelog} is at {upstream}, meson.build at {meson_version}: add a changelog entry "
              f"for {meson_version} (docs/RELEASING.md)")
        return 1
    # The entry's date becomes SOURCE_DATE_EPOCH; dpkg-deb only clamps file times that are newer,
    # so a date in the future makes two builds of the same tree differ.
    with open(changelog) as f:
        trailer = next((l for l in f if l.startswith(" -- ")), "")
    when = re.search(r">  (.+)$", trailer)
    if not when:
        print(f"{changelog}: no trailer line with a date in the newest entry")
        return 1
    stamp = email.utils.parsedate_to_datetime(when.group(1).strip())
    if stamp > datetime.datetime.now(datetime.timezone.utc):
        print(f"{changelog}: the newest entry is dated {when.group(1).strip()}, in the future")
        return 1
    print(f"{changelog}: {m.group(2)}{m.group(3) or ''} matches meson's {meson_version}")
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "symbols":
        return symbols(argv[1], argv[2], "--print" in argv[3:])
    if len(argv) in (3, 4) and argv[0] == "version":
        status = version(argv[1], argv[2])
        if len(argv) == 4:
            status |= python_version(argv[1], argv[3])
        return status
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""Every file `meson install` writes lies below the configured prefix (a packager's staged install
must not reach into /etc, /usr/local or the Python of another prefix), and the set of installed
files is the expected one, so that a new file is a decision and not an accident.

    check_install_prefix.py BUILD_DIR PREFIX
"""
import json
import os
import sys

# What is installed, relative to the prefix, with the libdir, the Python package directory and
# the HTML manual collapsed to one entry each (their contents are checked elsewhere).
EXPECTED = {
    "bin/musicrnn",
    "include/musicrnn/musicrnn.h",
    "include/musicrnn/musicrnn_version.h",
    "LIBDIR/libmusicrnn.a",
    "LIBDIR/libmusicrnn.so",
    "LIBDIR/libmusicrnn.so.0",
    "LIBDIR/libmusicrnn.so.VERSION",
    "LIBDIR/pkgconfig/musicrnn.pc",
    "PYTHON/musicrnn/*.py",
    "share/doc/libmusicrnn/html",
    "share/man/man1/musicrnn.1",
}


def main(build, prefix):
    info = os.path.join(build, "meson-info")
    with open(os.path.join(info, "intro-installed.json")) as f:
        installed = json.load(f)
    with open(os.path.join(info, "intro-buildoptions.json")) as f:
        options = {o["name"]: o["value"] for o in json.load(f)}
    with open(os.path.join(info, "intro-projectinfo.json")) as f:
        version = json.load(f)["version"]
    libdir = options["libdir"]
    prefix = os.path.normpath(prefix)
    bad, seen = [], set()
    for dest in sorted(set(installed.values())):
        if os.path.commonpath([prefix, os.path.normpath(dest)]) != prefix:
            bad.append(f"installed outside the prefix {prefix}: {dest}")
            continue
        rel = os.path.relpath(dest, prefix)
        if rel.startswith(libdir + os.sep):
            rel = "LIBDIR" + rel[len(libdir):]
        rel = rel.replace("libmusicrnn.so." + version, "libmusicrnn.so.VERSION")
        if "/musicrnn/" in rel and rel.endswith(".py") and "-packages/" in rel:
            rel = "PYTHON/musicrnn/*.py"
        seen.add(rel)
    for rel in sorted(seen - EXPECTED):
        bad.append(f"installed but not expected (add it to EXPECTED if it is meant): {rel}")
    for rel in sorted(EXPECTED - seen):
        # Optional parts are only required when their feature is forced on.
        if rel.startswith("PYTHON") and options.get("python") != "enabled":
            continue
        if rel.startswith("share/doc") and options.get("docs") != "enabled":
            continue
        bad.append(f"expected but not installed: {rel}")
    if bad:
        print("\n".join(bad))
        return 1
    print(f"{len(installed)} installed files, all below {prefix}, all expected")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

#!/usr/bin/python3
"""ABI compatibility of a built libmusicrnn against the dump of the last release (docs/ABI.md).

    abi_compat.py dump  LIB OUT.abi --headers-dir DIR [--headers-dir DIR ...]
    abi_compat.py check LIB REF.abi MAP --headers-dir DIR [...] [--abidw P] [--abidiff P]

`dump` writes the reference dump a release keeps in abi/. `check` fails (exit 1) when LIB is not
a compatible successor of REF.abi:
  - a symbol of REF is gone, or now carries another symbol version;
  - a symbol that REF does not have is in any node but the newest of MAP (a new function must go
    into the new release's node; an old node is never edited);
  - abidiff reports any change in the functions of REF: a parameter or return type, a member's
    type or offset, a struct's size, an enumerator's value, ...
The one change that is allowed although abidiff reports it is a *versioned parameter struct*
(its first member is `uint32_t version` in REF) that grew at its end: the library reads only the
fields of the version the caller filled in, so an old program's smaller struct keeps working.
Before abidiff runs, such a struct in LIB's dump is cut back to its released form (the members
after REF's last member removed, the size set back to REF's). What remains must equal REF exactly, so a member inserted in the
middle, a changed member type, or a struct that shrank still fails. libabigail's own
`has_data_member_inserted_at = end` suppression is not used: it also hides a member whose type
changed when nothing was inserted.

Any other struct that grows fails: one the library fills in for the caller (mrnn_corpus_stats)
would be written past the end of an old program's copy.

abidiff exit status is a bit set: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
After the cut, every change left is one to refuse, so any non-zero status fails the check.
Exit 77 (skip) when LIB has no DWARF debug information (e.g. a release build without -g).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# The options a dump is made with; the same for the reference and for the library under test so
# that the two compare like with like. Paths and line numbers are left out (they change with the
# machine and with every edit of the header, and abidiff does not compare them), type ids are
# hashes of the types (stable across builds, so the kept dump only changes when the ABI does), and
# only types declared in the public headers are kept: the opaque handles stay opaque.
ABIDW_OPTIONS = ["--no-corpus-path", "--no-comp-dir-path", "--no-show-locs",
                 "--type-id-style", "hash", "--drop-private-types", "--drop-undefined-syms"]


def run_abidw(abidw, lib, headers_dirs, out):
    cmd = [abidw] + ABIDW_OPTIONS
    for d in headers_dirs:
        cmd += ["--headers-dir", d]
    with open(out, "wb") as f:
        subprocess.run(cmd + [lib], stdout=f, check=True)


def has_dwarf(lib):
    out = subprocess.run(["readelf", "-S", "-W", lib], capture_output=True, text=True, check=True).stdout
    return ".debug_info" in out


def symbols(root):
    """name -> version of every defined function and variable symbol of a dump."""
    syms = {}
    for tag in ("elf-function-symbols", "elf-variable-symbols"):
        for block in root.iter(tag):
            for s in block.iter("elf-symbol"):
                syms[s.get("name")] = s.get("version", "")
    return syms


def newest_node(map_path):
    with open(map_path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    nodes = re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\{", text, flags=re.M)
    if not nodes:
        sys.exit(f"abi_compat: no version node in {map_path}")
    return nodes[-1]


def versioned_structs(root):
    """name -> (size in bits, offset of the last member) of the structs whose first member is
    `uint32_t version`."""
    types = {}
    for el in root.iter():
        if el.get("id") is not None and el.get("name") is not None:
            types[el.get("id")] = el

    def resolves_to_uint32(type_id):
        el = types.get(type_id)
        while el is not None and el.tag == "typedef-decl":
            if el.get("name") == "uint32_t":
                return True
            el = types.get(el.get("type-id"))
        return el is not None and el.tag == "type-decl" and el.get("name") == "unsigned int"

    found = {}
    for cls in root.iter("class-decl"):
        members = cls.findall("data-member")
        if not members or cls.get("size-in-bits") is None:
            continue
        first = members[0]
        var = first.find("var-decl")
        if (first.get("layout-offset-in-bits") == "0" and var is not None and var.get("name") == "version"
                and resolves_to_uint32(var.get("type-id"))):
            last = max(int(m.get("layout-offset-in-bits", "0")) for m in members)
            found[cls.get("name")] = (int(cls.get("size-in-bits")), last)
    return found


def cut_back(root, released):
    """Cut each versioned struct of a dump back to its released form: the members placed after the
    released last member go (an appended field may sit in the old tail padding, so the size alone
    does not tell), and a larger size becomes the released size. A smaller size is left for
    abidiff to report."""
    for cls in root.iter("class-decl"):
        old = released.get(cls.get("name"))
        if old is None or cls.get("size-in-bits") is None:
            continue
        old_size, old_last = old
        for m in cls.findall("data-member"):
            if int(m.get("layout-offset-in-bits", "0")) > old_last:
                cls.remove(m)
        if int(cls.get("size-in-bits")) > old_size:
            cls.set("size-in-bits", str(old_size))


def check(args):
    if not has_dwarf(args.lib):
        print(f"abi_compat: {args.lib} has no debug information; build with -g to check its ABI")
        return 77
    ref_root = ET.parse(args.ref).getroot()
    failures = []
    with tempfile.TemporaryDirectory(prefix="musicrnn-abi.") as tmp:
        new_abi = os.path.join(tmp, "new.abi")
        run_abidw(args.abidw, args.lib, args.headers_dir, new_abi)
        new_tree = ET.parse(new_abi)
        new_root = new_tree.getroot()

        old_syms, new_syms = symbols(ref_root), symbols(new_root)
        newest = newest_node(args.map)
        for name, ver in sorted(old_syms.items()):
            if name not in new_syms:
                failures.append(f"removed symbol {name}@{ver}")
            elif new_syms[name] != ver:
                failures.append(f"symbol {name} moved from {ver} to {new_syms[name]}")
        added = sorted(set(new_syms) - set(old_syms))
        for name in added:
            if new_syms[name] != newest:
                failures.append(f"added symbol {name}@{new_syms[name]} is not in the newest node {newest} "
                                f"of {os.path.basename(args.map)}")

        released = versioned_structs(ref_root)
        cut_back(new_root, released)
        cut_abi = os.path.join(tmp, "new-cut.abi")
        new_tree.write(cut_abi, encoding="unicode")
        # --no-added-syms: additions were judged above, by their symbol version.
        diff = subprocess.run([args.abidiff, "--no-added-syms", args.ref, cut_abi],
                              capture_output=True, text=True)
        if diff.returncode != 0:
            bits = [b for v, b in ((1, "error"), (2, "usage error"), (4, "ABI change"),
                                   (8, "incompatible change")) if diff.returncode & v]
            failures.append(f"abidiff {os.path.basename(args.ref)} against {os.path.basename(args.lib)} "
                            f"(versioned structs cut back to their released size): exit {diff.returncode} "
                            f"({', '.join(bits)})\n{diff.stdout}{diff.stderr}")
    if failures:
        print(f"abi_compat: {args.lib} breaks the ABI of {args.ref}:")
        for f in failures:
            print("  " + f)
        return 1
    print(f"abi_compat: {os.path.basename(args.lib)} is compatible with {os.path.basename(args.ref)} "
          f"({len(old_syms)} symbols kept, {len(added)} added in {newest}, "
          f"{len(released)} versioned structs may grow at their end)")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["dump", "check"])
    ap.add_argument("lib")
    ap.add_argument("abi")
    ap.add_argument("map", nargs="?")
    ap.add_argument("--headers-dir", action="append", default=[], required=True)
    ap.add_argument("--abidw", default="abidw")
    ap.add_argument("--abidiff", default="abidiff")
    args = ap.parse_args()
    if args.mode == "dump":
        if not has_dwarf(args.lib):
            sys.exit(f"abi_compat: {args.lib} has no debug information; dump a build made with -g")
        run_abidw(args.abidw, args.lib, args.headers_dir, args.abi)
        return 0
    if args.map is None:
        ap.error("check needs the version script MAP")
    args.ref = args.abi
    return check(args)


if __name__ == "__main__":
    sys.exit(main())

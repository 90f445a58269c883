#!/bin/sh
# Shows that the ABI check (abi_compat.py) can fail: a tiny library (abi/fixture.[ch]) is built in
# its "released" form, dumped like abi/libmusicrnn.so.0.abi is, and then in variants that each make
# one change. The compatible changes must pass, every incompatible one must be refused.
#   check_abi_compat.sh CC PYTHON3 ABI_COMPAT.PY FIXTURE_DIR
set -eu
cc="$1"; py="$2"; checker="$3"; src="$4"
work="$(mktemp -d /tmp/musicrnn-abi-fixture.XXXXXX)"
trap 'rm -rf "$work"' EXIT

node1='FX_0.1 { global: fx_params_init; fx_run; fx_stats_get; local: *; };'
printf '%s\n' "$node1" > "$work/released.map"
# The next release's map: fx_new in a new node, as docs/ABI.md asks.
printf '%s\nFX_0.2 { global: fx_new; } FX_0.1;\n' "$node1" > "$work/next.map"
# The mistake the check must catch: fx_new added to the released node.
printf 'FX_0.1 { global: fx_params_init; fx_run; fx_stats_get; fx_new; local: *; };\nFX_0.2 { global: fx_dummy; } FX_0.1;\n' \
    > "$work/edited.map"

build() { # NAME MAP CFLAGS...
    name="$1"; map="$2"; shift 2
    mkdir -p "$work/$name"
    cp "$src/fixture.h" "$work/$name/"
    # --undefined-version: edited.map names fx_dummy, which no variant defines (lld would object).
    "$cc" -shared -fPIC -g -O2 "$@" -I"$work/$name" -o "$work/$name/libfx.so.0" "$src/fixture.c" \
        -Wl,-soname,libfx.so.0 -Wl,--version-script,"$work/$map"
}

build released released.map
"$py" "$checker" dump "$work/released/libfx.so.0" "$work/released.abi" --headers-dir "$work/released"

status=0
expect() { # pass|fail NAME MAP CFLAGS...
    want="$1"; name="$2"; map="$3"; shift 3
    build "$name" "$map" "$@"
    if "$py" "$checker" check "$work/$name/libfx.so.0" "$work/released.abi" "$work/$map" \
            --headers-dir "$work/$name" > "$work/$name.log" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" = "$want" ]; then
        echo "ok: $name ($want$( [ "$got" = fail ] && printf ': %s' "$(grep -v "^ *$" "$work/$name.log" | tail -n 1 | sed "s/^ *//" | cut -c1-100)"))"
    else
        echo "NOT OK: $name should $want, did $got:"; cat "$work/$name.log"; status=1
    fi
}

expect pass unchanged            released.map
expect pass append-member        released.map -DFX_APPEND_MEMBER
expect pass append-into-padding released.map -DFX_APPEND_INTO_PADDING
expect pass append-enumerator    released.map -DFX_APPEND_ENUM
expect pass add-function-newnode next.map    -DFX_ADD_FUNCTION
expect pass append-and-add       next.map    -DFX_APPEND_MEMBER -DFX_ADD_FUNCTION
expect fail remove-function      released.map -DFX_REMOVE_FUNCTION
expect fail retype-parameter     released.map -DFX_RETYPE_PARAM
expect fail insert-member        released.map -DFX_INSERT_MEMBER
expect fail retype-member        released.map -DFX_RETYPE_MEMBER
expect fail retype-and-append    released.map -DFX_RETYPE_MEMBER -DFX_APPEND_MEMBER
expect fail insert-and-append    released.map -DFX_INSERT_MEMBER -DFX_APPEND_MEMBER
expect fail renumber-enumerator  released.map -DFX_RENUMBER_ENUM
expect fail grow-output-struct   released.map -DFX_GROW_OUTPUT
expect fail add-function-oldnode edited.map  -DFX_ADD_FUNCTION
exit $status

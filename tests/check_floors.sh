#!/usr/bin/env bash
# The floors of lib/ (docs/ARCHITECTURE.md): every file's includes stay on its floor or on the
# floors its row allows; every file of lib/ has a floor; border headers (libsmf, OpenBLAS) only
# where the borders table allows them.
#   check_floors.sh ARCHITECTURE.md LIB_DIR
set -euo pipefail
doc="$1"; libdir="$2"
declare -A floor_of module_floor allowed border
# The floors table: | n | name | `mod` `mod` | name, name |
rows=$(sed -n '/<!-- floors:/,/<!-- end floors -->/p' "$doc" | grep -E '^\| [0-9]+ \|')
[ -n "$rows" ] || { echo "$doc: no floors table"; exit 1; }
while IFS='|' read -r _ num name mods may _; do
    name=$(echo "$name" | tr -d ' ')
    floor_of[$name]=$name
    for m in $(echo "$mods" | tr -d '`'); do module_floor[$m]=$name; done
    allowed[$name]=" $name $(echo "$may" | tr -d ' —' | tr ',' ' ') "
done <<< "$rows"
brows=$(sed -n '/<!-- borders:/,/<!-- end borders -->/p' "$doc" | grep -E '^\| `')
while IFS='|' read -r _ header mods _; do
    border[$(echo "$header" | tr -d ' `')]=" $(echo "$mods" | tr -d '`') "
done <<< "$brows"

status=0
checked=0
for f in "$libdir"/*.c "$libdir"/*.h; do
    [ -e "$f" ] || continue
    base=$(basename "$f"); mod=${base%.*}
    fl=${module_floor[$mod]:-}
    if [ -z "$fl" ]; then
        echo "$base: not in the floors table of $(basename "$doc")"; status=1; continue
    fi
    checked=$((checked + 1))
    while read -r inc; do
        [ -n "$inc" ] || continue
        [ "$inc" = "musicrnn/musicrnn.h" ] && continue
        imod=${inc%.h}
        ifl=${module_floor[$imod]:-}
        if [ -z "$ifl" ]; then
            echo "$base includes \"$inc\", which has no floor"; status=1
        elif [[ "${allowed[$fl]}" != *" $ifl "* ]]; then
            echo "$base (floor $fl) includes \"$inc\" (floor $ifl)"; status=1
        fi
    done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$f")
    while read -r inc; do
        [ -n "$inc" ] || continue
        key=$(basename "$inc")
        if [ -n "${border[$key]:-}" ] && [[ "${border[$key]}" != *" $mod "* ]]; then
            echo "$base includes <$inc>, which only${border[$key]}may include"; status=1
        fi
    done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+<([^>]+)>.*/\1/p' "$f")
done
[ "$checked" -gt 0 ] || { echo "no files checked in $libdir"; exit 1; }
[ "$status" -eq 0 ] && echo "all $checked files of $libdir keep to their floors"
exit "$status"

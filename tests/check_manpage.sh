#!/bin/sh
# Fails when a long option that a command's --help lists is missing from the manual page, so the
# page cannot silently fall behind the program.
#   check_manpage.sh MUSICRNN MUSICRNN.1
set -eu
cli="$1"; page="$2"
# In groff source a hyphen in an option is written \-; compare in plain text.
text=$(sed 's/\\-/-/g' "$page")
missing=0
for cmd in preprocess train generate eval info; do
    for opt in $("$cli" "$cmd" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        case "$text" in
            *"$opt"*) ;;
            *) echo "musicrnn.1 does not document 'musicrnn $cmd $opt'"; missing=1 ;;
        esac
    done
done
[ "$missing" -eq 0 ] && echo "every option of every command's --help is in $(basename "$page")"
exit "$missing"

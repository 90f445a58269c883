#!/bin/sh
# Fails when a long option that a command's --help lists is missing from that command's section of
# the manual page, so the page cannot silently fall behind the program.
#   check_manpage.sh MUSICRNN MUSICRNN.1
set -eu
cli="$1"; page="$2"
missing=0
for cmd in preprocess train generate eval info; do
    # The command's own section (.SS cmd up to the next .SS or .SH), so that an option of one
    # command does not count as documented because another command has one of the same name.
    # In groff source a hyphen in an option is written \-; compare in plain text.
    text=$(awk -v cmd="$cmd" '/^\.S[SH] /{on = ($1 == ".SS" && $2 == cmd)} on' "$page" | sed 's/\\-/-/g')
    if [ -z "$text" ]; then
        echo "musicrnn.1 has no section '.SS $cmd'"; missing=1; continue
    fi
    for opt in $("$cli" "$cmd" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        case "$text" in
            *"$opt"*) ;;
            *) echo "musicrnn.1 does not document 'musicrnn $cmd $opt'"; missing=1 ;;
        esac
    done
done
[ "$missing" -eq 0 ] && echo "every option of every command's --help is in $(basename "$page")"
exit "$missing"

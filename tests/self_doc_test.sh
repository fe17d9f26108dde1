#!/usr/bin/env bash
# self_doc_test.sh VOUCH DOC_DIR: the manual page and completions the build
# wrote from vouch's own command line definition (DOC_DIR: vouch.1,
# vouch.bash, _vouch) agree with `vouch COMMAND --help`: every command, found
# by walking the help's "Subcommands:" lists, is a subsection of the manual,
# every option its help lists is in the manual, every help gives examples;
# the bash completion loads and completes; the zsh one parses (when zsh is
# installed).
set -euo pipefail
vouch=$1 doc=$2
fail=0
bad() { echo "self_doc_test: $*" >&2; fail=1; }

# The commands below PATH (words), from its help.
subcommands() {
  # shellcheck disable=SC2086
  "$vouch" $1 --help | awk '/^Subcommands:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }'
}
paths=()
walk() {
  local sub
  for sub in $(subcommands "$1"); do
    paths+=("${1:+$1 }$sub")
    walk "${1:+$1 }$sub"
  done
}
walk ""
[ "${#paths[@]}" -ge 10 ] || bad "only ${#paths[@]} commands found in vouch --help"

man=$doc/vouch.1
for p in "${paths[@]}"; do
  grep -qxF ".SS \"${p//-/\\-}\"" "$man" || bad "vouch.1 has no subsection for '$p'"
  # shellcheck disable=SC2086
  help=$("$vouch" $p --help)
  grep -q '^Examples:' <<<"$help" || bad "vouch $p --help gives no examples"
  for opt in $(grep -oE '^  (-[A-Za-z],)?--[a-z][a-z0-9-]*' <<<"$help" | sed 's/.*,//; s/^ *//'); do
    [ "$opt" = --help ] && continue
    grep -qF -- "${opt//-/\\-}" "$man" || bad "vouch.1 does not name $opt of '$p'"
  done
done

# The bash completion loads, registers vouch, and completes.
out=$(bash -c 'source "$1" && complete -p vouch' _ "$doc/vouch.bash") || bad "bash cannot load vouch.bash"
grep -q -- '-F _vouch' <<<"$out" || bad "vouch.bash registers no completion for vouch: $out"
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vouch; echo "${COMPREPLY[*]}"' \
    _ "$doc/vouch.bash" "$@"
}
[ "$(complete_words vouch verify-b)" = verify-backup ] || bad "bash: 'vouch verify-b' does not complete"
[ "$(complete_words vouch drill --form)" = --format ] || bad "bash: 'vouch drill --form' does not complete"
grep -qw junit <<<"$(complete_words vouch drill --format '')" || bad "bash: drill --format offers no junit"
[ "$(complete_words vouch ledger sh)" = show ] || bad "bash: 'vouch ledger sh' does not complete"

if command -v zsh >/dev/null; then
  zsh -n "$doc/_vouch" || bad "zsh cannot parse _vouch"
fi
head -1 "$doc/_vouch" | grep -qx '#compdef vouch' || bad "_vouch does not start with #compdef vouch"

[ "$fail" -eq 0 ] || exit 1
echo "self_doc_test: ${#paths[@]} commands, manual and completions agree with --help"

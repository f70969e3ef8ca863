#!/usr/bin/env bash
# Checks the module graph of docs/ARCHITECTURE.md against the code: every folder under src/ has a
# row in the module table, a module depends only on modules listed below it, and every `#include "module/…"` of a module names one its row lists
# under "depends on" ("everything" allows any). Prints each offending include; exits 1 if any.
#   tests/style/module_graph.sh [REPO_ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
status=0
declare -A allowed rank
n=0
while IFS= read -r row; do
  module="$(sed -E 's/^\| `([a-z_]+)\/` \|.*/\1/' <<<"$row")"
  deps="$(sed -E 's/.*\| ([^|]*) \|$/\1/; s/\([^)]*\)//g; s/[—,]/ /g' <<<"$row")"
  allowed[$module]=" $(tr -s ' ' <<<"$deps") "
  rank[$module]=$((n++))
done < <(grep -E '^\| `[a-z_]+/` \|' docs/ARCHITECTURE.md)

# The table lists modules top down: a module may depend only on modules in rows below its own.
for module in "${!allowed[@]}"; do
  for dep in ${allowed[$module]}; do
    [ "$dep" = everything ] && continue
    if [ -z "${rank[$dep]+x}" ] || [ "${rank[$dep]}" -le "${rank[$module]}" ]; then
      echo "module_graph: $module/ depends on $dep/, which is not a module below it in the table"
      status=1
    fi
  done
done

for dir in src/*/; do
  module="$(basename "$dir")"
  if [ -z "${allowed[$module]+x}" ]; then
    echo "module_graph: src/$module/ has no row in docs/ARCHITECTURE.md"
    status=1
    continue
  fi
  [[ "${allowed[$module]}" == *" everything "* ]] && continue
  while IFS=: read -r file line include; do
    used="$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$include")"
    [ "$used" = "$module" ] && continue
    if [[ "${allowed[$module]}" != *" $used "* ]]; then
      echo "$file:$line: $module/ includes $used/, not among its dependencies (${allowed[$module]# })"
      status=1
    fi
  done < <(grep -nE '^#include "[a-z_]+/' "$dir"* || true)
done
[ "$status" -eq 0 ] && echo "module_graph: ${#allowed[@]} modules, every include goes down"
exit "$status"

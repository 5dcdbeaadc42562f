#!/usr/bin/env bash
# Formats every C++ file of the tree (tracked, or new and not ignored) as
# .clang-format says; with --check, changes nothing and fails (listing the
# files) when one is not formatted.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cc' '*.h')
if [ "${1:-}" = "--check" ]; then
  if out=$(clang-format --dry-run --Werror "${files[@]}" 2>&1); then
    echo "format: ${#files[@]} files formatted"
    exit 0
  fi
  echo "format: not formatted (run scripts/format.sh):"
  grep -oE '^[^ :]+\.(cc|h):' <<<"$out" | sort -u | sed 's/:$//; s/^/  /'
  exit 1
fi
clang-format -i "${files[@]}"

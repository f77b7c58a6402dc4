#!/usr/bin/env bash
# Fails when a tracked .cc or .h file is not as clang-format (.clang-format) would write it.
# Fix with: git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
clang_format=${CLANG_FORMAT:-clang-format}
bad=0
while IFS= read -r f; do
  if ! "$clang_format" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (clang-format -i $f)"
    bad=1
  fi
done < <(git ls-files '*.cc' '*.h')
exit $bad

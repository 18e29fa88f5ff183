#!/usr/bin/env bash
# The C++ sources as .clang-format lays them out: prints each file clang-format would change (with the first
# differences) and exits 1 if there is any. Fix with: clang-format-14 -i FILE...
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
tool=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$tool" ]; then
  echo "check_format.sh: clang-format-14 not found (apt-get install clang-format-14)" >&2
  exit 2
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')
else
  mapfile -t files < <(find base bench harness serializers tests transports -name '*.[ch]pp' -o -name '*.[ch]')
fi
bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! "$tool" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    "$tool" "$f" | diff -u "$f" - | sed -n '3,12p' || true
    bad=1
  fi
done
[ $bad -eq 0 ] && echo "${#files[@]} files formatted as .clang-format says"
exit $bad

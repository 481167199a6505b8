#!/usr/bin/env bash
# Fails when a service depends on another service: a file under services/<a>/ that includes a
# header of services/<b>/, or a CMakeLists of services/<a>/ that links another service's library
# (mkt_<b>) or adds one of its folders to the include path. services/runtime is everyone's and
# depends on no service. What two services share moves down into services/runtime or a lib.
# (Running another service's binary as a process, as the process tests do, is not a dependency.)
set -euo pipefail
cd "$(dirname "$0")/.."
services=()
for dir in services/*/; do
  name="$(basename "$dir")"
  [ "$name" = runtime ] || services+=("$name")
done
bad=()
for a in services/*/; do
  a="$(basename "$a")"
  for b in "${services[@]}"; do
    [ "$a" = "$b" ] && continue
    # An include that names the other service's folder, or a header only it has.
    while IFS= read -r hit; do bad+=("$hit"); done < <(
      grep -rnE "#include \"(\.\./)+$b/|#include \"services/$b/" "services/$a" \
        --include='*.cpp' --include='*.h' || true)
    for header in services/"$b"/*.h; do
      [ -e "$header" ] || continue
      h="$(basename "$header")"
      [ -e "services/$a/$h" ] && continue  # its own header of that name
      while IFS= read -r hit; do bad+=("$hit (services/$b/$h)"); done < <(
        grep -rnF "#include \"$h\"" "services/$a" --include='*.cpp' --include='*.h' || true)
    done
    while IFS= read -r hit; do bad+=("$hit"); done < <(
      grep -nE "\bmkt_$b\b|\.\./$b\b|services/$b/" \
        "services/$a/CMakeLists.txt" | grep -vE '^[0-9]+:\s*#' | sed "s|^|services/$a/CMakeLists.txt:|" || true)
  done
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "a service depends on another service (move what they share into services/runtime or a lib):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "${#services[@]} services, none depends on another"

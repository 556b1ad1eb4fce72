#!/usr/bin/env bash
# verify-generated.sh fails when the generated files (CRDs, RBAC, deepcopy) in
# the working tree are not what `make manifests generate` produces from the
# API types and markers, so a stale file never reaches main unnoticed.
# It compares contents, not git state: uncommitted edits are fine as long as
# the generated files match them.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot="$(mktemp -d)"
trap 'rm -rf "$snapshot"' EXIT
generated() { { ls config/crd/bases/*.yaml config/rbac/role.yaml api/*/zz_generated.*.go docs/api.md 2>/dev/null || true; } | sort; }
generated >"$snapshot/list.before"
while read -r f; do mkdir -p "$snapshot/$(dirname "$f")" && cp "$f" "$snapshot/$f"; done <"$snapshot/list.before"
make --no-print-directory manifests generate api-docs >/dev/null
generated >"$snapshot/list.after"
stale=0
if ! diff -u "$snapshot/list.before" "$snapshot/list.after" >&2; then stale=1; fi
while read -r f; do
	if ! cmp -s "$f" "$snapshot/$f"; then echo "stale: $f" >&2; stale=1; fi
done <"$snapshot/list.after"
if [[ $stale == 1 ]]; then
	echo "Generated files were out of date; they have now been regenerated. Review and commit them." >&2
	exit 1
fi
echo "generated files are up to date"

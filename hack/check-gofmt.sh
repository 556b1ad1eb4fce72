#!/usr/bin/env bash
# check-gofmt.sh fails when a tracked Go file is not gofmt-exact.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted="$(git ls-files -co --exclude-standard '*.go' | xargs gofmt -l)"
if [[ -n "$unformatted" ]]; then
	echo "These files are not gofmt-exact; run 'make fmt':" >&2
	echo "$unformatted" >&2
	exit 1
fi

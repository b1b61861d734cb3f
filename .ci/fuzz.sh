#!/usr/bin/env bash
# CI: a short run of every fuzz target, one at a time (go test takes one
# -fuzz per run). Each target starts from its committed seed corpus
# (testdata/fuzz/<Target>) and checks its safety invariants for FUZZTIME
# (default 10s); the whole takes under two minutes.
#
# A failure prints the input and writes it to the package's
# testdata/fuzz/<Target>/: commit it with the fix, and it stays a
# regression test that plain `go test` runs.
#
#   .ci/fuzz.sh                 # every target, 10s each
#   FUZZTIME=60s .ci/fuzz.sh    # longer
#   .ci/fuzz.sh FuzzMentions    # only the targets named
set -uo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-10s}"
targets=(
	". FuzzRender"
	". FuzzMentions"
	". FuzzMessageCursors"
	". FuzzAppendJSONString"
	"./transport/websocket FuzzParseRequest"
	"./transport/sse FuzzParseRooms"
	"./transport/sse FuzzResumeFrom"
)

failed=()
start=$SECONDS
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
		continue
	fi
	echo "== fuzz $name ($pkg, $fuzztime)"
	if ! grep -q "^func $name(" "$pkg"/*_test.go; then
		# go test would fuzz nothing and pass.
		echo "no $name in $pkg"
		failed+=("$name")
		continue
	fi
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"; then
		failed+=("$name")
	fi
done
echo "== fuzz: $((SECONDS - start))s"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz targets failed: ${failed[*]}"
	exit 1
fi

#!/usr/bin/env bash
# Builds the load generator and the two bench servers, then runs every
# scenario: the servers on CPU 0, the load generator on CPU 1.
#
#   bench/run.sh [-quick] [-json results.json] [-scenarios fanout,idle] [-profile DIR]
#
# Flags go to bin/load (see `bin/load -h`). The JSON goes to
# bench/results.json unless -json says otherwise.
set -euo pipefail
cd "$(dirname "$0")"
go build -o bin/ ./cmd/load ./cmd/server-campfire ./cmd/server-centrifuge
# 10,000 connections on each side: raise the open-file limit as far as we may.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
json=()
case " $* " in *" -json "*) ;; *) json=(-json results.json) ;; esac
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	exec taskset -c 1 bin/load -server-cpu 0 "${json[@]}" "$@"
fi
exec bin/load -server-cpu "" "${json[@]}" "$@"

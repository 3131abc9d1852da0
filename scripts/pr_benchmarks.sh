#!/usr/bin/env bash
# Benchmark a pull request against its base and write a Markdown comment; CI and the tests run this.
#
#   scripts/pr_benchmarks.sh BASE HEAD [COMMENT_FILE]
#
# Runs `veracity continuous BASE HEAD` (both commits measured in interleaved rounds, one asv run a
# round; each benchmark judged direction-aware on its rounds' paired ratios with the noise of this
# very run, more rounds for grey results) and writes the Markdown table, with each verdict's noise
# figure, to COMMENT_FILE (default benchmark-comment.md). Exit status: 0 nothing worse beyond noise, 1 a
# regression that is not accepted in the triage file, 2 a usage or setup error.
#
# Environment: PYTHON (default python), ASV_CONFIG (default asv.conf.json), ASV_MACHINE (default
# the host name), VERACITY_ROUNDS (interleaved rounds, default 6; 1: one asv run judged against the
# calibrated bands), VERACITY_RERUN (grey-zone re-runs of as many rounds, default 2), BENCH (an asv
# --bench regex), VERACITY_EXPLAIN_BUDGET (seconds spent attaching `veracity explain`'s top lines to
# the regressions, largest first, default 300; 0 attaches none).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 BASE HEAD [COMMENT_FILE]" >&2
    exit 2
fi
base=$1
head=$2
comment=${3:-benchmark-comment.md}
python=${PYTHON:-python}
config=${ASV_CONFIG:-asv.conf.json}
machine=${ASV_MACHINE:-$(hostname)}

# asv asks about the machine interactively unless it is recorded first.
"$python" -m asv --config "$config" machine --yes --machine "$machine" >/dev/null

args=(continuous "$base" "$head" --config "$config" --machine "$machine" --markdown --output "$comment"
      --rerun "${VERACITY_RERUN:-2}" --rounds "${VERACITY_ROUNDS:-6}")
if [[ "${VERACITY_EXPLAIN_BUDGET:-300}" != "0" ]]; then
    args+=(--explain --explain-budget "${VERACITY_EXPLAIN_BUDGET:-300}")
fi
if [[ -n "${BENCH:-}" ]]; then
    args+=(--bench "$BENCH")
fi

status=0
"$python" -m veracity.cli "${args[@]}" || status=$?
if [[ -f "$comment" ]]; then
    cat "$comment"
fi
exit "$status"

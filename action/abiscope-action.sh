#!/usr/bin/env bash
# The steps of abiscope's GitHub Action (action.yml at the repository root), one phase per
# step, so they can run (and be tested) outside a runner:
#
#   abiscope-action.sh install    pip install abiscope from the action's own checkout
#   abiscope-action.sh baseline   check the target branch's headers -> baseline SARIF
#   abiscope-action.sh sarif      check with --baseline -> SARIF (and a copy to upload)
#   abiscope-action.sh annotate   check with --baseline, --format github: annotations of
#                                 the new findings; exit 1 when one is at/above fail-on
#
# Inputs come from the environment (action.yml maps the action's inputs onto them):
#   ABISCOPE_HEADERS       headers, directories, globs or @lists, separated by spaces or
#                          newlines (globs are
#                          passed to abiscope unexpanded; empty: `headers` of abiscope.toml)
#   ABISCOPE_ARGS          further `abiscope check` options (-I, -D, --target, ...)
#   ABISCOPE_FAIL_ON       error | warning | note | never (default warning)
#   ABISCOPE_BASELINE_REF  the branch (or commit) whose findings are the baseline; empty:
#                          no baseline, every finding counts
#   ABISCOPE_SARIF         the SARIF file written (default abiscope.sarif)
#   ABISCOPE_PYTHON        the interpreter (default python)
#   ABISCOPE_PIP_ARGS      extra `pip install` arguments (install phase)
#   GITHUB_ACTION_PATH     the action's checkout (install phase)
#   RUNNER_TEMP            scratch directory (default: $TMPDIR, else /tmp)
set -euo pipefail
set -f  # headers may be globs: abiscope expands them (in the tree it is run in)

phase=${1:?usage: abiscope-action.sh install|baseline|sarif|annotate}
python=${ABISCOPE_PYTHON:-python}
temp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
baseline="$temp/abiscope-baseline.sarif"
sarif=${ABISCOPE_SARIF:-abiscope.sarif}
# words separated by spaces or newlines (a YAML block of one header a line works too)
read -r -d '' -a headers <<< "${ABISCOPE_HEADERS:-}" || true
read -r -d '' -a args <<< "${ABISCOPE_ARGS:-}" || true
abiscope() { "$python" -m abiscope "$@"; }

empty_baseline() {  # no finding at all: what a base without these headers has
    printf '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "abiscope"}}, "results": []}]}\n' > "$baseline"
}

with_baseline() {  # --baseline FILE when the baseline phase wrote one
    if [[ -f $baseline ]]; then printf '%s\n' --baseline "$baseline"; fi
}

case $phase in
install)
    read -r -d '' -a pip_args <<< "${ABISCOPE_PIP_ARGS:-}" || true
    "$python" -m pip install ${pip_args[@]+"${pip_args[@]}"} "${GITHUB_ACTION_PATH:?}"
    ;;
baseline)
    rm -f "$baseline"
    ref=${ABISCOPE_BASELINE_REF:-}
    if [[ -z $ref ]]; then
        echo "abiscope: no baseline ref (not a pull request): every finding counts"
        exit 0
    fi
    base="$temp/abiscope-base"
    git worktree remove --force "$base" 2>/dev/null || rm -rf "$base"
    git fetch --no-tags --depth=1 origin "$ref" 2>/dev/null && rev=FETCH_HEAD || rev=$ref
    git worktree add --detach "$base" "$rev" >/dev/null
    # the headers that exist on the base (a header the pull request adds has no baseline)
    mapfile -t kept < <(cd "$base" && "$python" - ${headers[@]+"${headers[@]}"} <<'PY'
import glob, os, sys
for h in sys.argv[1:]:
    path = h[1:] if h.startswith("@") else h
    if glob.has_magic(path) and any(map(os.path.isfile, glob.glob(path, recursive=True))) \
            or os.path.exists(path):
        print(h)
PY
    )
    if (( ${#headers[@]} )) && (( ${#kept[@]} == 0 )); then
        echo "abiscope: none of the headers exists on $ref: an empty baseline"
        empty_baseline
    elif ! (cd "$base" && abiscope check ${kept[@]+"${kept[@]}"} ${args[@]+"${args[@]}"} \
            --format sarif -o "$baseline" --fail-on never); then
        echo "::warning title=abiscope baseline::abiscope check failed on $ref: no baseline, every finding counts as new"
        empty_baseline
    fi
    git worktree remove --force "$base"
    ;;
sarif)
    mapfile -t extra < <(with_baseline)
    abiscope check ${headers[@]+"${headers[@]}"} ${args[@]+"${args[@]}"} \
        ${extra[@]+"${extra[@]}"} --format sarif -o "$sarif" --fail-on never
    # the copy for code scanning: without the baseline's absent results (code scanning
    # tracks alerts itself and closes what a new analysis no longer reports)
    "$python" - "$sarif" "$temp/abiscope-upload.sarif" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
for run in doc["runs"]:
    run["results"] = [r for r in run["results"] if r.get("baselineState") != "absent"]
json.dump(doc, open(sys.argv[2], "w", encoding="utf-8"), indent=2)
PY
    if [[ -n ${GITHUB_OUTPUT:-} ]]; then
        echo "upload-sarif=$temp/abiscope-upload.sarif" >> "$GITHUB_OUTPUT"
    fi
    ;;
annotate)
    mapfile -t extra < <(with_baseline)
    abiscope check ${headers[@]+"${headers[@]}"} ${args[@]+"${args[@]}"} \
        ${extra[@]+"${extra[@]}"} --format github --fail-on "${ABISCOPE_FAIL_ON:-warning}"
    ;;
*)
    echo "abiscope-action.sh: unknown phase '$phase' (install, baseline, sarif, annotate)" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Run the workbench reports in CI: gates, summary.json, changes.md, and a clear failure message.
#
# Called by examples/github-actions.yml and examples/gitlab-ci.yml (copy this file to ci/ in
# your project). Settings come from the environment:
#   WORKBENCH_CONFIG      project file (default workbench.toml)
#   REPORTS_DIR           output folder (default reports/ci)
#   PREVIOUS_SUMMARY      the previous run's summary.json; compared when the file exists
#   WORKBENCH_GATES       data-quality gates, one per line or separated by ';'
#                         (default "set_aside_share>0.05"); [gates] in the project file adds more
#   WORKBENCH_NOTEBOOKS   report notebooks to run, separated by spaces (default: all)
#   CHANGE_THRESHOLD      relative KPI change listed in changes.md (default 0.05)
#   JOB_SUMMARY           file to append changes.md to (GitHub: $GITHUB_STEP_SUMMARY)
# Exit code: the one of `workbench report` (0 ok, 1 notebook failed, 2 configuration,
# 3 data error, 4 data-quality gate failed), after printing what it means.
set -uo pipefail

config="${WORKBENCH_CONFIG:-workbench.toml}"
out="${REPORTS_DIR:-reports/ci}"
previous="${PREVIOUS_SUMMARY:-}"
gates="${WORKBENCH_GATES-set_aside_share>0.05}"

args=(report --config "$config" --out "$out" --no-progress
      --change-threshold "${CHANGE_THRESHOLD:-0.05}")
while IFS= read -r gate; do
  gate="${gate#"${gate%%[![:space:]]*}"}"; gate="${gate%"${gate##*[![:space:]]}"}"
  [ -n "$gate" ] && args+=(--fail-on "$gate")
done < <(printf '%s\n' "$gates" | tr ';' '\n')
for notebook in ${WORKBENCH_NOTEBOOKS:-}; do
  args+=(--notebook "$notebook")
done
if [ -n "$previous" ] && [ -f "$previous" ]; then
  args+=(--compare-to "$previous")
else
  echo "No previous summary (${previous:-none given}): no change report this time."
fi

echo "+ workbench ${args[*]}"
workbench "${args[@]}"
code=$?

if [ -n "${JOB_SUMMARY:-}" ]; then
  if [ -f "$out/changes.md" ]; then
    cat "$out/changes.md" >> "$JOB_SUMMARY"
  elif [ -f "$out/summary.json" ]; then
    printf '# Reports\n\nFirst run: summary in %s/summary.json\n' "$out" >> "$JOB_SUMMARY"
  fi
fi

case "$code" in
  0) echo "Reports written to $out (index: $out/index.html)." ;;
  1) echo "FAILED: a report notebook failed; the executed notebook (kept in $out) shows the cell." ;;
  2) echo "FAILED: configuration or argument error (project file, option, path); nothing ran." ;;
  3) echo "FAILED: the data break the data contract; run 'workbench check --config $config'." ;;
  4) echo "FAILED: a data-quality gate failed (see above and $out/summary.json); reports kept." ;;
  *) echo "FAILED: workbench report exited with $code." ;;
esac
exit "$code"

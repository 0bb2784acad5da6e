#!/usr/bin/env bash
# PrairieLearn runs this as the question's external-grading entrypoint, in a
# container of the grading image, with the student's files in /grade/student
# (PrairieLearn's "External Grading" documentation, "The Grading Process"). It
# installs nothing: the image holds the grader. It always leaves
# /grade/results/results.json behind: when grading cannot run or takes too long, one
# marked not gradable, so that the attempt does not count against the student.
# The grader writes to a private folder first, so a results.json that a submission
# forges while it runs is always replaced.
# GRADE_ROOT stands in for /grade; GRADING_TIMEOUT bounds grading in seconds.
set -uo pipefail

ROOT="${GRADE_ROOT:-/grade}"
RESULTS="$ROOT/results/results.json"
LIMIT="${GRADING_TIMEOUT:-@GRADING_TIMEOUT@}"
KILL_AFTER=5
case "$LIMIT" in '' | *[!0-9]*) LIMIT=@GRADING_TIMEOUT@ ;; esac

if [ -x "@VENV@/bin/python" ]; then PYTHON="@VENV@/bin/python"; else PYTHON=python3; fi

# $1 must be JSON-safe text: only fixed words and numbers are ever passed.
write_not_gradable() {
  cat >"$RESULTS" <<JSON
{
  "gradable": false,
  "score": 0.0,
  "message": "The autograder could not grade this submission: $1. This attempt does not count; please tell your instructor.",
  "format_errors": ["The autograder could not grade this submission: $1."],
  "tests": []
}
JSON
}

readable_json() {
  [ -s "$1" ] && "$PYTHON" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"
}

mkdir -p "$(dirname "$RESULTS")"
rm -f "$RESULTS"
PRIVATE="$(mktemp -d)"
trap 'rm -rf "$PRIVATE"' EXIT
OUTPUT="$PRIVATE/results.json"
cd "$PRIVATE" || exit 1

timeout --kill-after="$KILL_AFTER" "$LIMIT" \
  "$PYTHON" -m grader --format prairielearn --output "$OUTPUT" "$ROOT/student"
status=$?

rm -f "$RESULTS"  # whatever is there now, even a link, came from the submission
if readable_json "$OUTPUT"; then
  cp "$OUTPUT" "$RESULTS"
elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  write_not_gradable "grading took longer than $LIMIT seconds"
else
  write_not_gradable "grading stopped with exit status $status"
fi
if [ "$status" -gt 1 ]; then
  echo "grade.sh: grading exited with status $status" >&2
fi
exit 0

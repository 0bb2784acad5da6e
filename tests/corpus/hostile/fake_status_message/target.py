"""The process the submission wants the grader to kill; the hostile-corpus test rewrites it."""

VICTIM_PID = 0

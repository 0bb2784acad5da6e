"""Run the grader on grading platforms: what each needs, written by one command.

.venv/bin/python -m grader.platforms gradescope --output autograder.zip
.venv/bin/python -m grader.platforms prairielearn --output prairielearn/ --image NAME
.venv/bin/python -m grader.platforms classroom50 --output classroom50-autograder/
.venv/bin/python -m grader.platforms github --output .github/workflows/grade.yml
"""

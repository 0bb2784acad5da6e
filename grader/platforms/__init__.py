"""Run the grader on Gradescope and GitHub Classroom: bundles and workflows for both.

python -m grader.platforms gradescope --output autograder.zip
python -m grader.platforms github --output .github/workflows/classroom.yml
"""

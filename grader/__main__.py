"""``python -m grader``: grade submission folders (see ``--help``)."""

from grader.cli import main

raise SystemExit(main())

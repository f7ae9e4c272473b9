"""`python -m aecourse ...`: the course's command line (`aecourse.course.cli`)."""

import sys

from aecourse.course.cli import main

if __name__ == "__main__":
    sys.exit(main())

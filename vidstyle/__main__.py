"""`python -m vidstyle` = the `vidstyle` command."""
import sys

from .cli.main import main

sys.exit(main())

import sys

from ipyy_mock.cli import main

sys.exit(main())

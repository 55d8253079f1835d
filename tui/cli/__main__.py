"""`python -m tui.cli`."""

from tui.cli.main import main

raise SystemExit(main())

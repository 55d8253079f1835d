"""`python -m tui` runs the CLI."""

from tui.cli.main import main

raise SystemExit(main())

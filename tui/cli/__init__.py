"""The `bedrock-tune` command line: argument parsing and one module per subcommand."""

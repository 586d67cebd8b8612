"""`python -m pitlane`: the same as the `pitlane` command."""
from pitlane.cli import main

main()

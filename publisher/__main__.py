"""`python -m publisher` runs the jobpub command line."""

from publisher.cli import main

main()

"""The boards jobpub ships, one module per board.

jobpub finds boards through the ``jobpub.boards`` entry points (``publisher.registry``),
which ``pyproject.toml`` declares: adding a board here is its module and its entry point.
"""

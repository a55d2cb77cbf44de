"""``jobpub serve``: the recruiters' web app (the ``web`` extra). The posting files stay the
single source of truth; every action goes through the engine functions the CLI uses."""

"""dockdrift: the command line and the in-process capture."""

"""The commands layer: one module per `dockdrift` command (parse, call analysis, render, exit)."""

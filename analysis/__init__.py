"""dockdrift analysis: SQL aggregates at the boundary, then DataFrames in, DataFrames out."""

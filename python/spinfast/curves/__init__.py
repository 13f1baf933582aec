"""Learning curves: one progress.txt (``progress``), many run folders (``runs``),
and Spinning Up's plotter (``plot``).
"""

"""Probes: fast, exact measurements of a network (NTK, curvature, collapse, conservation)."""

"""Probes: fast, exact measurements of a network (NTK, curvature, collapse, conservation)."""

from gdlab.probes import collapse as collapse
from gdlab.probes import curvature as curvature
from gdlab.probes import features as features
from gdlab.probes import modes as modes
from gdlab.probes.conservation import layer_balancedness as layer_balancedness
from gdlab.probes.conservation import neuron_balance as neuron_balance
from gdlab.probes.conservation import relative_drift as relative_drift
from gdlab.probes.coord_check import CoordCheck as CoordCheck
from gdlab.probes.coord_check import coord_check as coord_check
from gdlab.probes.coord_check import coord_check_figure as coord_check_figure
from gdlab.probes.features import cka as cka
from gdlab.probes.features import effective_rank as effective_rank
from gdlab.probes.features import feature_change as feature_change
from gdlab.probes.features import kernel_alignment as kernel_alignment
from gdlab.probes.ntk import empirical_ntk as empirical_ntk

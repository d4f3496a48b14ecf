"""Energy to carbon: grams of CO2 from joules, a grid intensity and a PUE."""
from __future__ import annotations

import numpy as np

from workbench.errors import SettingsError

J_PER_KWH = 3.6e6                 # 1 kWh = 1000 W × 3600 s
DEFAULT_GRID_G_PER_KWH = 400.0    # a round world-average grid intensity (g CO2 / kWh)


def j_to_kwh(energy_j):
    """Joules to kilowatt-hours (works on floats and numpy arrays)."""
    return energy_j / J_PER_KWH


def kwh_to_j(energy_kwh):
    """Kilowatt-hours to joules."""
    return energy_kwh * J_PER_KWH


def co2_grams(energy_j, grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH, pue: float = 1.0):
    """Grams of CO2 for a device energy (J): kWh × PUE × grid intensity (g CO2/kWh).

    PUE (power usage effectiveness, >= 1) scales device energy to facility energy (cooling,
    power supply losses). 3.6 MJ at 400 g/kWh and PUE 1 is 400 g.
    """
    if pue < 1.0:
        raise SettingsError(f"pue must be >= 1 (facility energy / device energy), got {pue}")
    if grid_g_per_kwh < 0:
        raise SettingsError(f"grid_g_per_kwh must be >= 0 (g CO2 per kWh), got {grid_g_per_kwh}")
    if np.any(np.asarray(energy_j) < 0):
        raise SettingsError("energy_j must be >= 0 (J)")
    return j_to_kwh(energy_j) * pue * grid_g_per_kwh

"""Seed 004's energy model E1–E6, computed exactly as the seed writes it, with its faults shown.

    E1  EC = C × W × L                       compute "energy"
    E2  ES = H × T_c × (T_max - T_min)       cooling "energy"; K = H × T_c
    E3  E  = EC + ES
    E4  η  = C × W / E
    E5  η  = C W / (C W L + K (T_max - T_min))
    E6  example: C = 1e9, W = 1000, L = 0.1, K = 0.1, T_max = 50, T_min = 20 -> "η ≈ 0.9997"

Nothing here is corrected: the point is that a learner can see what the formulas give and
read `check_units()` for why they cannot be right. The dimensionally consistent model beside it
is workbench.energy.consistent_model.

The seed example (section 4.3) says "C = 1 TFlop/s" but its own arithmetic uses 1 × 10^9, and
it multiplies C W by 0.1: that 0.1 is L (the text never names L's value). With L = 0.1, E5
gives 10^12 / (10^11 + 3) ≈ 10.0, because η → 1/L for a large C W. The seed's middle line
10^12 / (10^12 + 300) is neither (it equals 0.9999999997), and the stated 0.9997 follows from
neither (it is 1 / (1 + 3 × 10^-4), e.g. 1000 / (1000 + 0.3)).

Seed 003 uses η for the learning rate (formulas.sgd_step); here η is seed 004's efficiency.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from workbench.errors import SettingsError

SEED_STATED_ETA = 0.9997          # seed 004 §4.3, "≈ 0.9997 (99.97 %)"
SEED_MIDDLE_LINE = (1e12, 1e12 + 300)  # seed 004 §4.3 writes η = 10^12 / (10^12 + 300)
SEED_SAYS_C = 1e12                # "1 TFlop/s" in the prose; the arithmetic uses 1e9
KELVIN_OFFSET = 273.15

SOURCES = {
    "EC": "modelled:seed-e1",
    "ES": "modelled:seed-e2",
    "E": "modelled:seed-e3",
    "eta": "modelled:seed-e4",
    "eta_e5": "modelled:seed-e5",
    "stated_eta": "modelled:seed-e6",   # the seed's own figure, as printed
}


@dataclass(frozen=True)
class SeedInputs:
    """Inputs of E1–E5 with the seed's units. Defaults: the seed's example E6."""

    C: float = 1e9          # compute intensity (FLOP/s); the seed's arithmetic uses 1e9
    W: float = 1000.0       # workload, a duration (s)
    L: float = 0.1          # "energy-efficiency ratio" (FLOP/J); 0.1 is the seed's multiplier
    K: float = 0.1          # cooling coefficient K = H × T_c (seed: "J/(s·K·°C)")
    t_max_c: float = 50.0   # highest allowed temperature (°C)
    t_min_c: float = 20.0   # lowest allowed temperature (°C)

    def __post_init__(self):
        for name in ("C", "W", "L", "K", "t_max_c", "t_min_c"):
            if not math.isfinite(getattr(self, name)):
                raise SettingsError(f"{name} must be a finite number, got {getattr(self, name)}")
        for name in ("C", "W", "L"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.K < 0:
            raise SettingsError(f"K must be >= 0 (W/K), got {self.K}")
        if min(self.t_min_c, self.t_max_c) < -KELVIN_OFFSET:
            raise SettingsError("temperatures must be >= -273.15 °C")
        if self.t_max_c < self.t_min_c:
            raise SettingsError(f"t_max_c must be >= t_min_c, got {self.t_max_c} < {self.t_min_c}")

    @property
    def delta_t(self) -> float:
        """T_max - T_min: the same number in K and in °C (a difference)."""
        return self.t_max_c - self.t_min_c


def cooling_coefficient(H: float, t_c_kelvin: float) -> float:
    """K = H × T_c (seed 004 E5); T_c must be absolute (K), e.g. 50 °C -> 323.15."""
    return H * t_c_kelvin


@dataclass(frozen=True)
class SeedModelResult:
    """E1–E5 for one SeedInputs, plus the seed's stated η. Units are the seed's (see check_units)."""

    inputs: SeedInputs
    EC: float                # E1, "J" (really FLOP²/J)
    ES: float                # E2, "J" (really W or W/K: no time in it)
    E: float                 # E3
    eta: float               # E4 = C W / E
    eta_e5: float            # E5, equal to E4 since ES = K ΔT
    stated_eta: float = SEED_STATED_ETA
    sources: dict = field(default_factory=lambda: dict(SOURCES))

    def check_units(self) -> list[str]:
        """One line per problem of the seed model, with this result's numbers."""
        return unit_problems(self.inputs, self)

    def to_dict(self) -> dict:
        """Plain dict for JSON: the figures, the unit problems and their source labels."""
        return {"inputs": asdict(self.inputs), "EC": self.EC, "ES": self.ES, "E": self.E,
                "eta": self.eta, "eta_e5": self.eta_e5, "stated_eta": self.stated_eta,
                "unit_problems": self.check_units(), "sources": dict(self.sources)}


def compute_energy(inp: SeedInputs) -> float:
    """E1: EC = C × W × L, as written."""
    return inp.C * inp.W * inp.L


def cooling_energy(inp: SeedInputs) -> float:
    """E2 with K = H × T_c: ES = K × (T_max - T_min), as written (no time in it)."""
    return inp.K * inp.delta_t


def eta_e5(inp: SeedInputs) -> float:
    """E5: η = C W / (C W L + K (T_max - T_min)), as written."""
    return inp.C * inp.W / (inp.C * inp.W * inp.L + inp.K * inp.delta_t)


def seed_model(inputs: SeedInputs | None = None) -> SeedModelResult:
    """Seed 004's E1–E5 on `inputs` (default: the seed's example E6)."""
    inp = inputs or SeedInputs()
    ec, es = compute_energy(inp), cooling_energy(inp)
    e = ec + es
    return SeedModelResult(inputs=inp, EC=ec, ES=es, E=e, eta=inp.C * inp.W / e,
                           eta_e5=eta_e5(inp))


def unit_problems(inp: SeedInputs, res: SeedModelResult | None = None) -> list[str]:
    """Why the seed model cannot be read as physics: one line each, numbers from `inp`."""
    res = res or seed_model(inp)
    ex = SeedInputs()
    ex_eta = eta_e5(ex)
    middle = SEED_MIDDLE_LINE[0] / SEED_MIDDLE_LINE[1]
    t_mid_k = (inp.t_max_c + inp.t_min_c) / 2 + KELVIN_OFFSET
    return [
        f"E1: EC = C×W×L has units FLOP/s × s × FLOP/J = FLOP²/J, not J; an energy needs "
        f"C×W/L (= {inp.C * inp.W / inp.L:.4g} J here, not EC = {res.EC:.4g}), and as written "
        f"a more efficient device (larger L) spends more.",
        f"E2: ES = K×(T_max−T_min) has no time in it: cooling 'energy' is {res.ES:.4g} whether "
        f"the run lasts 1 s or W = {inp.W:.4g} s.",
        f"E2 units: H×T_c×ΔT is W/(m²·K)×K×K = W·K/m², and K×ΔT is W if K is in W/K (W/K with "
        f"the seed's 'J/(s·K·°C)'): a power or worse, never J; an energy needs ×time "
        f"(K×ΔT×W = {inp.K * inp.delta_t * inp.W:.4g} J here) and ×area for H.",
        f"E6: the stated η = {SEED_STATED_ETA} does not follow from E5: the seed's own numbers "
        f"give {ex_eta:.12g} (η → 1/L = {1 / ex.L:.4g} for large C×W), its middle line "
        f"10^12/(10^12+300) is {middle:.10g}, and 0.9997 is 1/(1+3e-4).",
        f"E6: the prose says C = 1 TFLOP/s = {SEED_SAYS_C:.0e} FLOP/s but the arithmetic uses "
        f"{ex.C:.0e}; the 0.1 multiplying C×W is L, never named in the text.",
        f"E4: η = C×W/E is FLOP/J with E in J (J/FLOP with E1's FLOP²/J), not a dimensionless "
        f"fraction, so '99.97 %' is meaningless; these inputs give η = {res.eta:.12g} "
        f"(E5: {res.eta_e5:.12g}).",
        f"Temperatures: ΔT = T_max−T_min = {inp.delta_t:.4g} is the same in K and °C (a "
        f"difference), but T_c in K = H×T_c must be absolute: a device at "
        f"{t_mid_k - KELVIN_OFFSET:.4g} °C has T_c = {t_mid_k:.5g} K, not {t_mid_k - KELVIN_OFFSET:.4g}.",
    ]


# -- seed claims about energy (seed-formulas.md C5, C6) ----------------------------------------
@dataclass(frozen=True)
class DevicePowerClaim:
    """Seed 004 §5.4: a device's compute power, cooling power and the η the seed states."""

    device: str
    compute_w: float         # stated compute power (W)
    cooling_w: float         # stated cooling power (W)
    stated_eta: float        # stated "energy efficiency"

    @property
    def fraction_eta(self) -> float:
        """η read as the useful fraction: compute / (compute + cooling). Dimensionless."""
        return self.compute_w / (self.compute_w + self.cooling_w)


SEED_C5 = (
    DevicePowerClaim("NVIDIA GTX 1080 Ti", 200.0, 50.0, 0.95),
    DevicePowerClaim("Google Cloud TPU v3", 300.0, 100.0, 0.90),
)


def c5_fraction_reading(compute_w: float, cooling_w: float) -> float:
    """The η a 'compute / (compute + cooling)' reading gives: 200 W, 50 W -> 0.8."""
    if compute_w < 0 or cooling_w < 0 or compute_w + cooling_w == 0:
        raise SettingsError("compute_w and cooling_w must be >= 0 and not both 0 (W)")
    return compute_w / (compute_w + cooling_w)


@dataclass(frozen=True)
class SeedClaim:
    """One numeric claim of a seed beside a reference value it can be checked against."""

    id: str                  # seed-formulas.md id, e.g. 'C5-gpu'
    source: str              # where the seed says it
    what: str                # one line
    stated: float            # the seed's figure
    reference: float         # what it should be / a published figure
    unit: str
    reference_label: str     # where the reference comes from

    @property
    def ratio(self) -> float:
        """stated / reference."""
        return self.stated / self.reference


SEED_CLAIMS_ENERGY = [
    *(SeedClaim(f"C5-{'gpu' if 'GTX' in c.device else 'tpu'}", "seed 004 §5.4",
                f"{c.device}: compute {c.compute_w:g} W, cooling {c.cooling_w:g} W, "
                f"η {c.stated_eta:g}", c.stated_eta, c.fraction_eta, "fraction",
                "modelled:compute/(compute+cooling) from the seed's own watts")
      for c in SEED_C5),
    SeedClaim("C6", "seed 002 §1.2.3", "GPT-3 training energy", 284_000.0, 1_287_000.0, "kWh",
              "published estimate 1,287 MWh (Patterson et al. 2021)"),
    SeedClaim("E6", "seed 004 §4.3", "η of the seed example", SEED_STATED_ETA,
              eta_e5(SeedInputs()), "as written (FLOP/J)", "modelled:seed-e5 on the seed's numbers"),
]

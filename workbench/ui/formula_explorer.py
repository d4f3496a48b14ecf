"""The formula explorer: sigmoid (F1), cross-entropy (F2, F3) and gradient descent with weight
decay (F4, F5) on seed 000's small problem (100 samples, 3 parameters). Learning rate, weight
decay and the step shown are sliders; Play walks through the steps so the learner sees θ move."""
from __future__ import annotations

import html
import threading
import time

import ipywidgets as widgets
import numpy as np

from workbench import formulas as F
from workbench.ui.plots import FormulaFigure

STYLE = {"description_width": "11em"}
PLAY_PERIOD_S = 0.12   # one step per this many seconds while playing


class FormulaView:
    """Sliders η (learning rate), λ (weight decay), steps, step shown, z; one figure; one readout."""

    def __init__(self, m: int = 100, seed: int = 0, lazy: bool = False):
        self.X, self.y = F.make_binary_example(m=m, n_params=3, seed=seed)      # (m, 3), (m,)
        self._lock = threading.Lock()   # one figure, drawn from the kernel thread or the player
        lay = widgets.Layout(width="100%")
        self.lr = widgets.FloatLogSlider(value=0.5, base=10, min=-3, max=1.3, step=0.05, readout_format=".3g",
                                         description="learning rate η", style=STYLE, layout=lay,
                                         continuous_update=False)
        self.weight_decay = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, readout_format=".2f",
                                                description="weight decay λ", style=STYLE, layout=lay,
                                                continuous_update=False)
        self.steps = widgets.IntSlider(value=60, min=1, max=300, description="steps", style=STYLE, layout=lay,
                                       continuous_update=False)
        self.step = widgets.IntSlider(value=60, min=0, max=60, description="step shown", style=STYLE, layout=lay)
        # A text button, not widgets.Play: Play's buttons are icons only, missing when offline.
        self.play = widgets.ToggleButton(value=False, description="Play the steps",
                                         tooltip="walk through the steps, one every PLAY_PERIOD_S")
        self.play.observe(lambda ch: self._play(ch["new"]), names="value")
        self._player: threading.Thread | None = None
        self.figure = FormulaFigure()
        self.z = widgets.FloatSlider(value=1.0, min=-8.0, max=8.0, step=0.1, description="logit z (F1)",
                                     style=STYLE, layout=lay, continuous_update=False)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1400px"))
        self.image.add_class("wb-formula-plot")
        self.readout = widgets.HTML()
        for w in (self.lr, self.weight_decay, self.steps):
            w.observe(lambda _: self.fit(), names="value")
        self.step.observe(lambda _: self.draw(), names="value")
        self.z.observe(lambda _: self.draw(), names="value")
        self.thetas = None
        if not lazy:
            self.activate()

    def activate(self) -> None:
        """The tab is shown: fit and draw once."""
        if self.thetas is None:
            self.fit()

    def widget(self) -> widgets.VBox:
        controls = widgets.VBox([self.lr, self.weight_decay, self.steps,
                                 self.play,
                                 self.step, self.z], layout=widgets.Layout(width="48%", min_width="480px"))
        return widgets.VBox([
            widgets.HTML("<h2>From the sigmoid to a gradient step</h2><div class='wb-sub'>Logistic regression on "
                         "seed 000's example: 100 samples, 2 features and a bias (3 parameters). Full-batch steps "
                         "θ ← θ − η∇J − ηλθ (F5; λ = 0 gives F4).</div>"),
            widgets.HBox([controls, self.readout], layout=widgets.Layout(flex_flow="row wrap", justify_content="space-between")),
            self.image])

    def fit(self) -> None:
        """Recompute the θ path and the loss curve for the current η, λ and number of steps."""
        n = int(self.steps.value)
        self.thetas, self.losses = F.fit_logistic(self.X, self.y, lr=self.lr.value,
                                                  weight_decay=self.weight_decay.value, steps=n)
        self.losses_no_decay = None
        if self.weight_decay.value > 0:
            _, self.losses_no_decay = F.fit_logistic(self.X, self.y, lr=self.lr.value, weight_decay=0.0, steps=n)
        self.figure.set_fit(self.X, self.y, self.thetas, self.losses, self.losses_no_decay,
                            float(self.lr.value), float(self.weight_decay.value))
        self.step.max = n
        self.step.value = n if self.step.value > n or self.step.value == 0 else self.step.value
        self.draw()

    def _play(self, on: bool) -> None:
        if on and (self._player is None or not self._player.is_alive()):
            if self.step.value >= self.step.max:
                self.step.value = 0
            self._player = threading.Thread(target=self._play_loop, name="workbench-formula-play", daemon=True)
            self._player.start()

    def _play_loop(self) -> None:
        """Advance the shown step in a thread (it only sets traits); stops at the last step."""
        while self.play.value and self.step.value < self.step.max:
            time.sleep(PLAY_PERIOD_S)
            self.step.value += 1
        self.play.value = False

    def draw(self) -> None:
        if self.thetas is None:      # not shown yet (lazy): fit() draws when it is
            return
        k = int(min(self.step.value, len(self.thetas) - 1))
        with self._lock:
            self.image.value = self.figure.png(k, float(self.z.value))
        self.readout.value = step_html(self.X, self.y, self.thetas, k, float(self.lr.value),
                                       float(self.weight_decay.value), float(self.z.value))


def _vec(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:+.3f}" for x in v) + ")"


def step_html(X, y, thetas, k: int, lr: float, weight_decay: float, z: float) -> str:
    """The numbers of one step: θ_k, ∇J(θ_k), and θ_{k+1} = θ_k − η∇J − ηλθ_k."""
    theta = thetas[k]
    grad = F.logistic_gradient(theta, X, y)
    nxt = F.sgd_step(theta, grad, lr, weight_decay)
    p = F.sigmoid(X @ theta)
    bce = float(F.binary_cross_entropy(p, y))
    ce = float(F.cross_entropy(np.stack([1 - p, p], axis=1), y.astype(int)))
    lines = [
        f"F1  σ({z:g}) = 1 / (1 + e^{-z:+g}) = {float(F.sigmoid(z)):.4f}",
        f"F3  J(θ_{k}) = −(1/m) Σ [y log p + (1−y) log(1−p)] = {bce:.4f} nats",
        f"F2  with two classes, J = {ce:.4f} nats (the same number)",
        f"θ_{k}       = {_vec(theta)}",
        f"∇J(θ_{k})   = {_vec(grad)}",
        f"F5  θ_{k + 1} = θ_{k} − {lr:.3g}·∇J − {lr:.3g}·{weight_decay:g}·θ_{k}",
        f"         = {_vec(nxt)}",
    ]
    return ('<div class="wb-formula" style="white-space:pre;line-height:1.55">'
            + "\n".join(html.escape(x) for x in lines) + "</div>"
            + "<div class='wb-sub'>Seed 003 calls the learning rate η; seed 004 uses η for energy "
              "efficiency. Here η is the learning rate.</div>")

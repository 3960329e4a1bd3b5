"""One training loop for one model; losses."""

from gdlab.train.loop import Probe as Probe
from gdlab.train.loop import TrainResult as TrainResult
from gdlab.train.loop import train as train
from gdlab.train.loop import value_and_grad as value_and_grad
from gdlab.train.losses import cross_entropy as cross_entropy
from gdlab.train.losses import logistic as logistic
from gdlab.train.losses import mse as mse

__all__ = ["Probe", "TrainResult", "cross_entropy", "logistic", "mse", "train", "value_and_grad"]

"""Data: synthetic generators with known ground truth, and small real datasets made locally."""

from gdlab.data.clusters import gaussian_mixture as gaussian_mixture
from gdlab.data.clusters import xor_clusters as xor_clusters
from gdlab.data.dataset import Dataset as Dataset
from gdlab.data.dataset import split as split
from gdlab.data.icl import Prompts as Prompts
from gdlab.data.icl import regression_prompts as regression_prompts
from gdlab.data.real import cifar10 as cifar10
from gdlab.data.real import digits as digits
from gdlab.data.real import mnist as mnist
from gdlab.data.real import mnist1d as mnist1d
from gdlab.data.synthetic import linear_separable as linear_separable
from gdlab.data.synthetic import linear_teacher as linear_teacher
from gdlab.data.synthetic import random_relu_features as random_relu_features
from gdlab.data.synthetic import relu_features as relu_features
from gdlab.data.synthetic import sphere as sphere

__all__ = [
    "Dataset",
    "Prompts",
    "cifar10",
    "digits",
    "gaussian_mixture",
    "linear_separable",
    "linear_teacher",
    "mnist",
    "mnist1d",
    "random_relu_features",
    "regression_prompts",
    "relu_features",
    "sphere",
    "split",
    "xor_clusters",
]

"""Test helpers shipped with gdlab: dense oracles and named tolerances."""

from gdlab.testing import reference as reference
from gdlab.testing.tolerances import TOL as TOL
from gdlab.testing.tolerances import assert_close as assert_close
from gdlab.testing.tolerances import rel_error as rel_error

__all__ = ["TOL", "assert_close", "reference", "rel_error"]

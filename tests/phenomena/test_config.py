from dataclasses import dataclass

import pytest

from gdlab.errors import UserInputError
from gdlab.phenomena import Phenomenon, SeedResult, Verdict, resolve_config
from gdlab.phenomena._config import config_from_dict, config_hash, parse_overrides


@dataclass(frozen=True)
class Cfg:
    n: int = 3
    lr: float = 0.1
    widths: tuple[int, ...] = (1, 2)
    flag: bool = False
    name: str = "a"

    def __post_init__(self):
        if self.n < 1:
            raise ValueError("n must be >= 1")


PH = Phenomenon(name="toy", claim="", source="", Config=Cfg, run=lambda c, x: {},
                verdict=lambda c, r: Verdict.from_seeds("toy", [SeedResult(0, ())], prediction=""),
                presets={"full": {"n": 10}})


def test_overrides_are_typed():
    cfg = resolve_config(PH, "quick", {"n": "5", "lr": "1e-3", "widths": "4,8,16", "flag": "true"})
    assert cfg == Cfg(5, 1e-3, (4, 8, 16), True, "a")
    assert resolve_config(PH, "full").n == 10


@pytest.mark.parametrize("over,match", [
    ({"nn": "1"}, "unknown override key 'nn'.*Did you mean 'n'"),
    ({"n": "abc"}, "n expects int"),
    ({"n": "1.5"}, "n expects int"),
    ({"lr": "fast"}, "lr expects float"),
    ({"flag": "maybe"}, "flag expects bool"),
    ({"n": "0"}, "n must be >= 1"),
])
def test_bad_overrides_raise_user_errors(over, match):
    with pytest.raises(UserInputError, match=match):
        resolve_config(PH, "quick", over)


def test_parse_overrides_and_hash_stability():
    assert parse_overrides(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(UserInputError, match="key=value"):
        parse_overrides(["novalue"])
    h = config_hash("toy", Cfg())
    assert h == config_hash("toy", Cfg()) and h != config_hash("toy", Cfg(n=4))
    assert h != config_hash("toy", Cfg(), device="cuda")
    assert config_from_dict(PH, {"n": 2, "widths": [3, 4]}) == Cfg(n=2, widths=(3, 4))

import pytest

from workbench.errors import SettingsError
from workbench.settings import Settings


@pytest.mark.parametrize("changes, fragment", [
    ({"bits": 0}, "bits must be an integer from 1 to 16, or 32"),
    ({"bits": 33}, "bits must be an integer from 1 to 16, or 32"),
    ({"bits": 20}, "bits must be an integer from 1 to 16, or 32"),
    ({"prune_ratio": 1.0}, "prune_ratio must be in [0, 1)"),
    ({"prune_ratio": -0.1}, "prune_ratio must be in [0, 1)"),
    ({"parallelism": 0}, "parallelism must be an integer from 1"),
    ({"t_min_c": 80, "t_max_c": 80}, "t_min_c must be below t_max_c"),
    ({"workload": "resnet"}, "choose one of mlp, lstm, gpt"),
    ({"prune_kind": "random"}, "choose one of unstructured"),
    ({"device": "tpu"}, "choose cpu, cuda or cuda:N"),
    ({"steps": 0}, "steps must be an integer"),
    ({"pue": 0.5}, "pue must be from 1.0"),
    ({"t_max_c": float("nan")}, "must be a finite number"),
])
def test_invalid_settings_raise_one_line(changes, fragment):
    with pytest.raises(SettingsError) as info:
        Settings(**changes)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_round_trips():
    s = Settings(workload="gpt", bits=8, prune_ratio=0.5, t_min_c=40, t_max_c=70, tiny=True)
    assert Settings.from_json(s.to_json()) == s
    assert Settings.from_query(s.to_query()) == s
    assert Settings.from_dict(s.to_dict()) == s


def test_query_holds_only_changes_and_strings_are_coerced():
    assert Settings().to_query() == ""
    s = Settings.from_query("?workload=mlp&bits=4&tiny=true&prune_ratio=0.25")
    assert (s.workload, s.bits, s.tiny, s.prune_ratio) == ("mlp", 4, True, 0.25)


def test_unknown_and_badly_typed_settings():
    with pytest.raises(SettingsError, match="unknown setting"):
        Settings.from_dict({"bitz": 8})
    with pytest.raises(SettingsError, match="bits must be of type int"):
        Settings.from_dict({"bits": "eight"})
    with pytest.raises(SettingsError, match="bits must be of type int"):
        Settings.from_dict({"bits": 7.5})
    with pytest.raises(SettingsError, match="not valid JSON"):
        Settings.from_json("{bits: 8")


def test_replace_validates():
    with pytest.raises(SettingsError):
        Settings().replace(t_min_c=90.0)

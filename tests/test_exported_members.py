"""The public names are pinned: adding or removing one is a decision, not an accident."""

import kinsim
import kinsim.errors
import kinsim.records


def test_top_level_names():
    assert sorted(kinsim.__all__) == sorted([
        "__version__", "client", "Backend", "MemoryBackend", "KinesisClient", "Clock", "ManualClock",
        "WallClock", "FunctionClock", "KinsimError", "KinesisError", "ScenarioError",
    ])
    for name in kinsim.__all__:
        assert hasattr(kinsim, name), name


def test_error_names_are_the_api_codes():
    for name in kinsim.errors.__all__:
        error = getattr(kinsim.errors, name)
        if isinstance(error, type) and issubclass(error, kinsim.errors.KinesisError) \
                and error is not kinsim.errors.KinesisError:
            assert error.code == name


def test_records_names():
    for name in kinsim.records.__all__:
        assert hasattr(kinsim.records, name), name

"""The public names are pinned: adding or removing one is a decision, not an accident."""

import kinsim
import kinsim.errors
import kinsim.records


def test_top_level_names():
    assert sorted(kinsim.__all__) == sorted([
        "__version__", "client", "Backend", "MemoryBackend", "KinesisClient", "Clock", "ManualClock",
        "WallClock", "FunctionClock", "KinsimError", "KinesisError", "ScenarioError", "mock", "MockEndedError",
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


def test_counter_names():
    """The counter interface is public: users write counters against these names."""
    import kinsim.counters

    assert sorted(kinsim.counters.__all__) == sorted([
        "Counter", "LateRecord", "ParameterError", "Sink", "collect", "duration_us", "BufferedCounter",
        "NaiveCounter", "Part", "PerShard", "Windowing", "BUILT_IN",
    ])
    assert kinsim.counters.BUILT_IN == {"naive": kinsim.counters.NaiveCounter,
                                        "buffered": kinsim.counters.BufferedCounter}


def test_every_listed_name_exists():
    import importlib

    for name in ("kinsim.counters", "kinsim.counters.base", "kinsim.counters.windows", "kinsim.durations",
                 "kinsim.scenario", "kinsim.scenario.kinds", "kinsim.scenario.loader", "kinsim.scenario.model",
                 "kinsim.scenario.consuming", "kinsim.scenario.checking", "kinsim.scenario.values",
                 "kinsim.metrics", "kinsim.report", "kinsim.runner", "kinsim.leases",
                 "kinsim.leases.table", "kinsim.leases.taker", "kinsim.leases.holder"):
        module = importlib.import_module(name)
        for member in module.__all__:
            assert hasattr(module, member), (name, member)

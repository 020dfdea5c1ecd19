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
        "Counter", "LateRecord", "ParameterError", "Sink", "collect", "duration_us", "report_rows", "BufferedCounter",
        "NaiveCounter", "Part", "PerShard", "Windowing", "BUILT_IN",
    ])
    assert kinsim.counters.BUILT_IN == {"naive": kinsim.counters.NaiveCounter,
                                        "buffered": kinsim.counters.BufferedCounter}


def test_strategy_names():
    """The hypothesis strategies are public: users draw their tests' inputs from these names."""
    import kinsim.strategies

    assert sorted(kinsim.strategies.__all__) == sorted([
        "HASH_KEY_MAX", "Put", "PutBatch", "hash_keys", "explicit_hash_keys", "partition_keys",
        "partition_key_pools", "record_data", "clock_starts", "clock_steps", "shard_counts", "get_records_limits",
        "limit_cycles", "puts", "put_batches", "put_actions", "boto3_records",
        "Advance", "Split", "Merge", "Rescale", "Action", "picks", "advances", "splits", "merges", "rescales",
        "reshard_actions", "workloads", "reshard_workloads",
        "S", "Poll", "window_shapes", "counter_polls",
        "seconds", "lag_models", "lag_document",
        "address_ranges", "key_lists", "key_populations", "each_populations", "producer_groups",
        "population_document",
        "START", "KEYS", "DAY", "counter", "checkpoint_policies", "starts", "scenario_keys", "outage_lists",
        "producer_specs", "consumer_specs", "counter_specs", "scenarios", "scenario_document", "scenario_documents",
        "FaultSchedule", "fault_schedules", "reshard_schedules", "worker_schedules", "worker_lists",
        "fault_document", "shard_name", "numbered_faults", "down_at_end", "PATIENT", "worker_scenarios",
    ])


def test_every_listed_name_exists():
    import importlib

    for name in ("kinsim.counters", "kinsim.counters.base", "kinsim.counters.windows", "kinsim.durations",
                 "kinsim.scenario", "kinsim.scenario.kinds", "kinsim.scenario.loader", "kinsim.scenario.model",
                 "kinsim.scenario.consuming", "kinsim.scenario.checking", "kinsim.scenario.values",
                 "kinsim.metrics", "kinsim.report", "kinsim.runner", "kinsim.leases",
                 "kinsim.leases.table", "kinsim.leases.taker", "kinsim.leases.holder", "kinsim.strategies",
                 "kinsim.strategies.records", "kinsim.strategies.actions", "kinsim.strategies.counters",
                 "kinsim.strategies.lags", "kinsim.strategies.specs", "kinsim.strategies.documents",
                 "kinsim.strategies.faults", "kinsim.strategies.workers", "kinsim.strategies.populations",
                 "kinsim.populations", "kinsim.scenario.producing"):
        module = importlib.import_module(name)
        for member in module.__all__:
            assert hasattr(module, member), (name, member)

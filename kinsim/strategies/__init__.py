"""Hypothesis strategies for testing Kinesis producers, consumers and counters against kinsim: the ones
kinsim's own tests use. Every value drawn is valid by construction (bounds, ``.map`` and
``@st.composite``; no filters), and the edges come up often.

- ``records``: hash keys, partition keys, record data, PutRecord and PutRecords calls (``put_batches``;
  ``boto3_records`` for boto3's ``Records=[...]``), clock starts and steps, shard counts, GetRecords limits;
- ``actions``: workloads of puts, clock steps and reshards interleaved, the reshards as *picks* a test
  reduces against the shards open at that moment;
- ``counters``: the polls a consumer hands a counter, and window shapes;
- ``lags``: network lag models (``kinsim.lag``);
- ``populations``: key populations and producer groups;
- ``specs``: whole runnable scenarios (``kinsim.scenario.Scenario``) and their parts;
  ``documents``: the same as scenario files' documents, which ``parse_scenario`` reads back equal;
- ``faults``: fault schedules (reshards, throttles, workers' crashes, restarts and pauses), valid, or
  valid or not; ``workers``: runs of KCL-shaped workers under a valid schedule.

hypothesis is a test dependency, not one of kinsim's: ``import kinsim`` never imports it, and importing
this package without it raises an ``ImportError`` saying how to install it. For example::

    from hypothesis import given
    from kinsim.runner import run
    from kinsim.strategies import scenarios

    @given(scenarios())
    def test_every_record_is_delivered(scenario):
        result = run(scenario)
        assert result.delivered == result.produced
"""

try:
    import hypothesis  # checked here, once, before any module below needs it
except ModuleNotFoundError as exc:
    if exc.name != "hypothesis":
        raise
    raise ImportError("kinsim.strategies needs hypothesis, which kinsim does not install (it is a test "
                      "dependency): pip install hypothesis", name="hypothesis") from None
del hypothesis

# each module's __all__ is what it exports; the package exports them all
from .records import *  # noqa: E402,F401,F403
from .actions import *  # noqa: E402,F401,F403
from .counters import *  # noqa: E402,F401,F403
from .lags import *  # noqa: E402,F401,F403
from .populations import *  # noqa: E402,F401,F403
from .specs import *  # noqa: E402,F401,F403
from .documents import *  # noqa: E402,F401,F403
from .faults import *  # noqa: E402,F401,F403
from .workers import *  # noqa: E402,F401,F403
from . import actions, counters, documents, faults, lags, populations, records, specs, workers  # noqa: E402

__all__ = [*records.__all__, *actions.__all__, *counters.__all__, *lags.__all__, *populations.__all__, *specs.__all__,
           *documents.__all__, *faults.__all__, *workers.__all__]

"""Scenarios as scenario files write them: ``scenario_document(scenario)`` turns a ``Scenario`` into the
document (plain dicts, lists, text and numbers) that ``kinsim.scenario.parse_scenario`` reads back into
an equal one, and ``scenario_documents()`` draws such documents, for tests of code that reads scenario
files or of the loader itself. ``yaml.safe_dump(document)`` makes the file.

Every key is written, defaults too; durations as text (``"1m30.5s"``) to the microsecond, instants as
ISO 8601 in UTC, counters as mappings with their name, windows and parameters as they were given.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kinsim.durations import duration_text
from kinsim.scenario import ConsumerSpec, CounterSpec, ProducerSpec, Scenario
from kinsim.scenario.model import CheckpointPolicy

from .faults import fault_document
from .lags import lag_document
from .populations import population_document
from .specs import scenarios

__all__ = ["scenario_document", "scenario_documents"]


def _signed(seconds: float) -> str:
    return "-" + duration_text(-seconds) if seconds < 0 else duration_text(seconds)


def _producer(producer: ProducerSpec) -> dict[str, Any]:
    item: dict[str, Any] = {"name": producer.name}
    if producer.keys is None:
        item["partition_key"] = producer.partition_key
    else:
        item["keys"] = population_document(producer.keys)
    if producer.count is not None:
        item["count"] = producer.count
    item.update({
        "interval": duration_text(producer.interval),
        "offset": duration_text(producer.offset), "jitter": duration_text(producer.jitter),
        "lag": lag_document(producer.lag),
        "outages": [{"at": duration_text(o.at), "for": duration_text(o.duration)} for o in producer.outages],
        "clock_skew": _signed(producer.clock_skew), "pacing": producer.pacing.value})
    if producer.until is not None:
        item["until"] = duration_text(producer.until)
    return item


def _checkpoint(policy: CheckpointPolicy) -> Any:
    if policy.every is not None:
        return {"every": duration_text(policy.every)}
    if policy.records is not None:
        return {"records": policy.records}
    return "each_batch" if policy.each_batch else "none"


def _consumer(consumer: ConsumerSpec) -> dict[str, Any]:
    item: dict[str, Any] = {
        "poll_interval": duration_text(consumer.poll_interval), "limit": consumer.limit,
        "iterator": consumer.iterator.value, "start": duration_text(consumer.start), "workers": list(consumer.workers),
        "lease": {"failover_time": duration_text(consumer.failover_time)},
        "checkpoint": _checkpoint(consumer.checkpoint), "state": consumer.state.value}
    if consumer.processor is not None:
        item["processor"] = consumer.processor.path
    return item


def _counter(spec: CounterSpec) -> dict[str, Any]:
    return {"kind": spec.kind, "name": spec.name, "size": duration_text(spec.windowing.size_us / 1e6),
            "slide": duration_text(spec.windowing.slide_us / 1e6), **dict(spec.params)}


def scenario_document(scenario: Scenario) -> dict[str, Any]:
    """``scenario`` as a scenario file's document (see the module's docstring)."""
    stream: dict[str, Any] = {"shards": scenario.stream.shards,
                              "update_delay": duration_text(scenario.stream.update_delay)}
    if scenario.stream.name is not None:
        stream["name"] = scenario.stream.name
    document = {
        "name": scenario.name, "description": scenario.description, "seed": scenario.seed,
        "start": scenario.start.isoformat().replace("+00:00", "Z"), "duration": duration_text(scenario.duration),
        "window": duration_text(scenario.window), "stream": stream,
        "producers": [_producer(producer) for producer in scenario.producers],
        "consumer": _consumer(scenario.consumer), "counters": [_counter(spec) for spec in scenario.counters]}
    if scenario.faults:
        document["faults"] = [fault_document(fault) for fault in scenario.faults]
    return document


def scenario_documents(**options: Any) -> st.SearchStrategy[dict[str, Any]]:
    """The documents of ``scenarios(**options)``: each one ``parse_scenario`` accepts, and runnable."""
    return scenarios(**options).map(scenario_document)

"""Record processors of the user's own in whole runs (DESIGN §11, "Processors"): the class a scenario names
as ``consumer.processor`` is given every record by KCL-shaped workers, through kinsim's checkpointer,
across a crash and a pause of a worker.

The processors are the user's code, unchanged: amazon-kclpy's own sample app (``samples/sample_kclpy_app.py``
from its sdist, via the ``kclpy`` fixture) and small modules written next to the scenario file, as a user
keeps them. They are observed from outside: through what they print, module-level lists their module
keeps, and the run's ``result.workers``. How kinsim's inputs and checkpointer read to one processor, call
by call: tests/test_kcl.py.
"""

from __future__ import annotations

import re
import sys
import textwrap

from kinsim.backends import MemoryBackend
from kinsim.records import IteratorType
from kinsim.runner import run
from kinsim.scenario import load_scenario

SCENARIO = """\
name: {name}
seed: 3
start: 2018-07-31T21:56:00Z
duration: {duration}
window: 1m
stream: {{shards: 2}}
producers:                                   # 8.8.8.8 and 8.8.8.9 hash to shard 0, the others to shard 1
  - {{name: a, partition_key: 8.8.8.8, interval: 2s, offset: 10s, lag: {{constant: 100ms}}}}
  - {{name: b, partition_key: 8.8.8.9, interval: 5s, offset: 10s, lag: {{uniform: [5s, 40s]}}}}
  - {{name: c, partition_key: 1.1.1.1, interval: 3s, offset: 10s, lag: {{exponential: {{mean: 500ms}}}}}}
  - {{name: d, partition_key: 8.8.4.4, interval: 4s, offset: 10s, lag: {{constant: 1s}}}}
consumer:
  workers: 2
  poll_interval: 5s
  lease: {{failover_time: 10s}}
{consumer}
counters:
  - naive
  - {{kind: buffered, name: buffered-1m, grace: 1m}}
{faults}
"""


def scenario(tmp_path, name: str, consumer: str, faults: str = "", duration: str = "4m", module: str = ""):
    """A two-worker scenario in ``tmp_path``; ``module``: the source of a processor module written beside it
    as ``<name>_app.py`` (each test its own module name: Python imports a module once)."""
    if module:
        (tmp_path / f"{name}_app.py").write_text(textwrap.dedent(module), encoding="utf-8")
    path = tmp_path / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, duration=duration, consumer=textwrap.indent(consumer, "  "),
                                    faults=f"faults:\n{textwrap.indent(faults, '  ')}" if faults else ""),
                    encoding="utf-8")
    return load_scenario(path)


def app(name: str):
    """The processor module a scenario imported (its module-level lists are the test's hook)."""
    return sys.modules[f"{name}_app"]


BATCH_SIZES = """\
    BATCHES = []   # (shard id, records given) per call of process_records


    class Sizes:
        def initialize(self, initialize_input):
            self.shard_id = initialize_input.shard_id

        def process_records(self, process_records_input):
            BATCHES.append((self.shard_id, len(process_records_input.records)))

        def lease_lost(self, lease_lost_input):
            pass

        def shard_ended(self, shard_ended_input):
            shard_ended_input.checkpointer.checkpoint()

        def shutdown_requested(self, shutdown_requested_input):
            shutdown_requested_input.checkpointer.checkpoint()
    """


def test_process_records_is_not_called_for_an_empty_poll(tmp_path):
    """As the KCL by default (``callProcessRecordsEvenForEmptyRecordList`` false): a poll that returned
    nothing reaches the counters, not the user's processor. The first polls here are empty (the producers
    begin at 10 s). kclpy's sample app, given an empty batch, checkpoints ``"None"``, is refused, and sleeps
    5 s of wall-clock time five times over."""
    result = run(scenario(tmp_path, "empty_polls", "processor: empty_polls_app:Sizes", module=BATCH_SIZES))
    batches = app("empty_polls").BATCHES
    assert batches and all(size > 0 for _, size in batches)
    assert sum(size for _, size in batches) == result.workers.delivered == result.produced
    assert len(batches) < result.polls                 # the empty polls: not given to the processor
    assert {shard for shard, _ in batches} == {"shardId-000000000000", "shardId-000000000001"}
    naive = {c.spec.name: c.metrics for c in result.counters}["naive"]
    assert naive["final_exact"] == 1.0                  # the counters saw every poll all the same


# -- amazon-kclpy's sample app, unchanged ------------------------------------------------------------------
RECORD_LINE = re.compile(r"Record \(Partition Key: ([^,]+), Sequence Number: (\d+),")


def kept_backend():
    """A backend factory for ``run`` that keeps the simulated shards, to read the stream back afterwards."""
    kept = []

    def factory(clock):
        kept.append(MemoryBackend(clock))
        return kept[-1]

    return kept, factory


def stream_contents(backend: MemoryBackend) -> dict[str, str]:
    """Every record the stream holds: sequence number → partition key."""
    [stream] = backend.list_streams()
    found = {}
    for shard in backend.list_shards(stream):
        iterator = backend.get_shard_iterator(stream, shard.shard_id, IteratorType.TRIM_HORIZON)
        while iterator is not None:
            batch = backend.get_records(iterator, 10_000)
            found.update((r.sequence_number, r.partition_key) for r in batch.records)
            iterator = batch.next_shard_iterator if batch.records else None
    return found


def test_kclpys_sample_app_sees_every_record_across_a_crash_and_a_restart(tmp_path, kclpy, capsys):
    """``samples/sample_kclpy_app.py``'s ``RecordProcessor``, named as the scenario's processor, unchanged,
    with two workers: w1 crashes at 2m10s and comes back at 4m. Its ``process_records`` logs every
    record it is given to stderr (its own ``log``, read here from outside); every record of the stream is
    among them, and every delivery the run counted went through it.

    The sample checkpoints by the wall clock (``time.time()``, every 30 s, from 0 at ``initialize``) and
    kinsim does not patch time: in a run that takes well under a second, each of its processors
    checkpoints at its first batch and then only at ``shutdown_requested``. Those checkpoints go through
    kinsim's checkpointer into the lease table; and the worker that takes a crashed (or stolen) lease
    starts after that first checkpoint, so most of what the previous owner was given is delivered again.
    """
    kept, factory = kept_backend()
    spec = scenario(tmp_path, "sample_app", "processor: samples.sample_kclpy_app:RecordProcessor",
                    "- {at: 2m10s, crash: w1}\n- {at: 4m, restart: w1}\n", duration="5m")
    assert spec.consumer.processor.processor_class.__module__ == "samples.sample_kclpy_app"
    result = run(spec, backend_factory=factory, keep_stream=True)
    out, err = capsys.readouterr()
    given = [(seq, key) for key, seq in RECORD_LINE.findall(err)]
    stream = stream_contents(kept[0])
    w = result.workers
    assert len(stream) == result.produced > 0
    assert dict(given) == stream                          # every record, with its own key, ...
    assert len(given) == w.delivered == result.produced + w.duplicates   # ... and every delivery
    assert w.never_delivered == 0 and w.duplicates > 0
    assert w.checkpoints_written > 0 and w.checkpoints_refused == 0
    assert "error while checkpointing" not in err and "exception" not in err.lower()
    assert out == ""                                      # it prints a ShutdownException it skips: none here
    [crashed] = [h.shard_id for h in w.holdings if h.worker == "w1" and h.how == "crashed"]
    [takeover] = [t for t in w.takeovers if t.previous == "w1"]
    assert (takeover.shard_id, takeover.worker, takeover.at, takeover.after) == (crashed, "w2", 160.0, 30.0)
    assert [(e.worker, e.what, e.at) for e in w.events] == [("w1", "crash", 130.0), ("w1", "restart", 240.0)]


# -- a processor of the user's own on kclpy's base class: the zombie's checkpoint ----------------------------
EACH_BATCH = """\
    from amazon_kclpy import kcl
    from amazon_kclpy.v3 import processor

    PROCESSORS = []   # every processor built, in order


    class EachBatch(processor.RecordProcessorBase):
        \"\"\"Checkpoints after each batch; keeps what it was called with and the errors it caught.\"\"\"

        def __init__(self):
            self.shard_id = None
            self.calls = []
            self.errors = []
            PROCESSORS.append(self)

        def initialize(self, initialize_input):
            self.shard_id = initialize_input.shard_id
            self.calls.append(("initialize", initialize_input.sequence_number))

        def process_records(self, process_records_input):
            self.calls.append(("process_records", [r.sequence_number for r in process_records_input.records]))
            try:
                process_records_input.checkpointer.checkpoint()
            except kcl.CheckpointError as e:
                self.errors.append(e)
                self.calls.append(("checkpoint refused", e.value))

        def lease_lost(self, lease_lost_input):
            self.calls.append(("lease_lost",))

        def shard_ended(self, shard_ended_input):
            shard_ended_input.checkpointer.checkpoint()

        def shutdown_requested(self, shutdown_requested_input):
            shutdown_requested_input.checkpointer.checkpoint()
    """


def test_a_zombies_checkpoint_raises_kclpys_checkpoint_error(tmp_path, kclpy):
    """w1 stalls from 1m to 1m40s, longer than the failover time (10 s): w2 takes its lease at its take
    round at 1m20s (the counter unchanged since its scan at 1m). At 1m40s w1 wakes and finishes what it
    was doing before it renews: it reads the records since its last poll and its processor checkpoints;
    the lease table refuses, and the processor catches ``amazon_kclpy.kcl.CheckpointError`` with
    ``value`` ``ShutdownException``; then it gets ``lease_lost`` (and, a live worker with no lease, steals
    one from w2). Nothing is lost; what the zombie read was w2's to deliver too."""
    from amazon_kclpy import checkpoint_error, kcl

    from kinsim.kcl import CheckpointError as KinsimCheckpointError

    result = run(scenario(tmp_path, "zombie", "processor: zombie_app:EachBatch",
                          "- {at: 1m, for: 40s, pause: w1}\n", module=EACH_BATCH))
    w = result.workers
    [holding] = [h for h in w.holdings if h.worker == "w1" and h.start == 0]
    stalled = holding.shard_id
    assert (holding.end, holding.how) == (100.0, "lost")     # learnt from the refused checkpoint, at the wake
    assert [(t.shard_id, t.worker, t.previous, t.stolen, t.at, t.after) for t in w.takeovers] == [
        (stalled, "w2", "w1", False, 80.0, 20.0),           # 20 s after the stall began
        (w.takeovers[1].shard_id, "w1", "w2", True, 100.0, None)]   # awake, w1 steals its fair share back
    [zombie] = [p for p in app("zombie").PROCESSORS if p.errors]
    [error] = zombie.errors
    assert isinstance(error, kcl.CheckpointError) and kcl.CheckpointError is checkpoint_error.CheckpointError
    assert isinstance(error, KinsimCheckpointError)
    assert (error.value, str(error)) == ("ShutdownException", repr("ShutdownException"))
    assert zombie.shard_id == stalled
    assert zombie.calls[-3:] == [zombie.calls[-3], ("checkpoint refused", "ShutdownException"), ("lease_lost",)]
    assert zombie.calls[-3][0] == "process_records" and zombie.calls[-3][1]   # the batch it read on waking
    assert w.checkpoints_refused == 1 and w.checkpoints_written > 0
    assert w.never_delivered == 0 and w.duplicates >= len(zombie.calls[-3][1])
    others = [p for p in app("zombie").PROCESSORS if p is not zombie]
    assert all(not p.errors for p in others)


def test_kclpys_sample_app_as_a_zombie_at_a_shards_end_does_not_stop_the_run(tmp_path, kclpy, capsys):
    """The sample's ``shard_ended`` checkpoints without catching ``CheckpointError``. w1 stalls from 1m to
    2m holding a shard that is split at 1m10s; w2 takes the lease at 1m20s and reads it to its end. At 2m
    w1 wakes, reads the rest of the shard too, and its processor's SHARD_END checkpoint is refused
    (``ShutdownException``), out of ``shard_ended``. kclpy's ``KCLProcess`` passes over what a processor
    raises, and so does kinsim: the run goes on, and every record is given to the app."""
    kept, factory = kept_backend()
    spec = scenario(tmp_path, "sample_zombie", "processor: samples.sample_kclpy_app:RecordProcessor",
                    "- {at: 1m, for: 1m, pause: w1}\n- {at: 1m10s, split: shardId-000000000000}\n"
                    "- {at: 1m10s, split: shardId-000000000001}\n", duration="5m")
    result = run(spec, backend_factory=factory, keep_stream=True)
    err = capsys.readouterr().err
    stream = stream_contents(kept[0])
    w = result.workers
    assert dict((seq, key) for key, seq in RECORD_LINE.findall(err)) == stream
    assert len(stream) == result.produced and w.never_delivered == 0
    [zombie] = [h for h in w.holdings if h.worker == "w1" and h.start == 0]
    assert (zombie.end, zombie.how) == (120.0, "lost")
    assert [(t.shard_id, t.worker, t.at, t.after) for t in w.takeovers if t.previous == "w1"] == \
        [(zombie.shard_id, "w2", 80.0, 20.0)]
    assert [h.how for h in w.holdings if h.worker == "w2" and h.shard_id == zombie.shard_id] == ["ended"]
    assert w.checkpoints_refused == 1                    # the zombie's SHARD_END
    assert "Shard has ended checkpointing" in err

"""kinsim.kcl's checkpointer: the KCL's rules at their edges, a lease table refusing a zombie's checkpoint,
and a property over generated delivery/checkpoint sequences against a small model of the KCL's
``ShardRecordProcessorCheckpointer`` (+ ``ExtendedSequenceNumber``, ``ShutdownTask`` at shard end).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kinsim.kcl import ILLEGAL_ARGUMENT, INVALID_STATE, SHARD_END, SHUTDOWN, CheckpointError, Checkpointer
from kinsim.leases import Lease, Leaseholder, MemoryLeaseTable
from tests.kcl_helpers import Shard, refused


# ---- the checkpointer's rules --------------------------------------------------------------------------

def test_no_argument_is_the_last_delivered():
    shard = Shard()
    shard.checkpointer.checkpoint()                 # nothing delivered: the start, nothing written
    assert shard.writes == []
    shard.batch(10, 3)
    shard.checkpointer.checkpoint()
    shard.checkpointer.checkpoint()                 # the same again: not written twice
    assert shard.writes == ["12"] and shard.checkpointer.written == 1


def test_bounds_last_checkpoint_to_last_delivered():
    shard = Shard()
    shard.batch(10, 3)
    assert refused(lambda: shard.checkpointer.checkpoint("13")) == ILLEGAL_ARGUMENT   # one beyond
    assert refused(lambda: shard.checkpointer.checkpoint("12", 1)) == ILLEGAL_ARGUMENT  # beyond by sub-sequence
    shard.checkpointer.checkpoint("11")
    shard.checkpointer.checkpoint(12)               # the exact last delivered; an int is its digits
    assert refused(lambda: shard.checkpointer.checkpoint("11")) == ILLEGAL_ARGUMENT   # below the last checkpoint
    shard.checkpointer.checkpoint("12")             # equal to the last: nothing to write, no error
    assert shard.writes == ["11", "12"]


@pytest.mark.parametrize("bad", ["", "abc", "12a", " 12", "-1", "1.5", "0x1f", "١٢", "TRIM_HORIZON", "LATEST",
                                 "AT_TIMESTAMP", SHARD_END, -1, 1.0, b"11", True])
def test_not_a_sequence_number(bad):
    shard = Shard()
    shard.batch(10, 3)
    assert refused(lambda: shard.checkpointer.checkpoint(bad)) == ILLEGAL_ARGUMENT
    assert shard.writes == []


@pytest.mark.parametrize("sub", [-1, "0", 0.0, True])
def test_bad_sub_sequence_number(sub):
    shard = Shard()
    shard.batch(10, 1)
    assert refused(lambda: shard.checkpointer.checkpoint("10", sub)) == ILLEGAL_ARGUMENT


def test_starting_from_a_checkpoint():
    shard = Shard(start="100")
    assert refused(lambda: shard.checkpointer.checkpoint("99")) == ILLEGAL_ARGUMENT
    shard.checkpointer.checkpoint("100")            # where it started: nothing written
    shard.batch(101, 2)
    shard.checkpointer.checkpoint()
    assert shard.writes == ["102"]
    with pytest.raises(ValueError):
        Checkpointer("s", lambda: None, lambda v: True, start="nope")


def test_after_refusal_the_lease_is_lost():
    shard = Shard()
    shard.batch(1, 3)
    shard.checkpointer.checkpoint("1")
    shard.accept = False
    assert refused(lambda: shard.checkpointer.checkpoint()) == SHUTDOWN
    shard.accept = True                             # even if the table would take it now: lost is lost
    assert refused(lambda: shard.checkpointer.checkpoint("2")) == SHUTDOWN
    shard.checkpointer.checkpoint("1")              # the last written: nothing to write, no error (KCL)
    assert refused(lambda: shard.checkpointer.checkpoint("4")) == ILLEGAL_ARGUMENT  # arguments checked first
    assert shard.writes == ["1"] and (shard.checkpointer.written, shard.checkpointer.refused) == (1, 2)


def test_shard_end():
    shard = Shard()
    shard.batch(1, 3)
    assert refused(lambda: shard.checkpointer.checkpoint(SHARD_END)) == ILLEGAL_ARGUMENT  # not before the end
    shard.checkpointer.end_shard()
    shard.checkpointer.checkpoint("2")              # below the last record: written as it is, not the end
    assert not shard.checkpointer.reached_shard_end
    shard.checkpointer.checkpoint("3")              # the last record delivered: written as SHARD_END
    assert shard.writes == ["2", SHARD_END] and shard.checkpointer.reached_shard_end
    shard.checkpointer.checkpoint()                 # SHARD_END again: nothing written
    shard.checkpointer.checkpoint(SHARD_END)
    assert refused(lambda: shard.checkpointer.checkpoint("3")) == ILLEGAL_ARGUMENT  # below SHARD_END now
    assert shard.writes == ["2", SHARD_END]


@pytest.mark.parametrize("how", [(), (SHARD_END,)])
def test_shard_end_with_nothing_delivered(how):
    shard = Shard(start="50")
    shard.checkpointer.end_shard()
    shard.checkpointer.checkpoint(*how)
    assert shard.writes == [SHARD_END]


def test_after_close_the_state_is_invalid():
    shard = Shard()
    shard.batch(1, 2)
    shard.checkpointer.close()
    assert refused(lambda: shard.checkpointer.checkpoint()) == INVALID_STATE
    assert refused(lambda: shard.checkpointer.checkpoint("1")) == INVALID_STATE
    assert shard.writes == []


def test_a_failed_download_is_reported(tmp_path, monkeypatch):
    from tests.kclpy_sdist import SdistUnavailable, unpacked

    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(SdistUnavailable, match="pip download failed"):
        unpacked(tmp_path / "kclpy")


def test_error_without_kclpy_shape():
    error = CheckpointError(SHUTDOWN, "why")
    assert (error.value, error.message, str(error)) == (SHUTDOWN, "why", repr(SHUTDOWN))


def test_a_stolen_lease_refuses_the_zombies_checkpoint():
    table = MemoryLeaseTable([Lease("s0")])
    alice = Leaseholder("alice", table, failover_time=10.0)
    alice.take(0.0)
    delivered = ["5", "6"]
    checkpointer = Checkpointer("s0", lambda: delivered[-1], lambda cp: alice.checkpoint("s0", cp), start="4")
    checkpointer.checkpoint("5")
    assert table.get("s0").checkpoint == "5"
    assert table.take("s0", "bob", table.get("s0").counter) is not None      # bob steals it
    assert refused(checkpointer.checkpoint) == SHUTDOWN
    assert table.get("s0").checkpoint == "5" and alice.checkpoints_refused == 1
    assert (checkpointer.written, checkpointer.refused) == (1, 1)


# ---- property: the checkpointer against a model of the KCL's rules ----------------------------------

END = (float("inf"), 0)  # the model's positions: (sequence number, sub-sequence number)
checkpoints = st.tuples(st.just("checkpoint"), st.sampled_from([None, 0, 0, -1, 1, -2, 2]),  # from the last
                        st.sampled_from([0, 0, 0, 1]))                                      # delivered; sub
operations = st.lists(st.one_of(
    st.tuples(st.just("deliver"), st.integers(0, 3), st.integers(1, 4)),     # gap, count
    checkpoints, checkpoints,
    st.tuples(st.just("checkpoint_text"), st.sampled_from(["", "x", "1e3", "-3", SHARD_END, "LATEST"]), st.just(0)),
    st.tuples(st.just("refuse"), st.booleans(), st.just(0)),
    st.tuples(st.just("end_shard"), st.just(0), st.just(0)),
    st.tuples(st.just("close"), st.just(0), st.just(0)),
), max_size=30)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.just("TRIM_HORIZON"), st.integers(0, 5).map(str)), operations)
@example("0", [("deliver", 0, 2), ("end_shard", 0, 0), ("checkpoint", 0, 0)])  # the last record → SHARD_END
@example("0", [("deliver", 0, 2), ("refuse", True, 0), ("checkpoint", None, 0), ("refuse", False, 0),
               ("deliver", 0, 1), ("checkpoint", None, 0)])                    # lost once, lost for good
def test_checkpointer_follows_the_model(start_at, ops):
    shard = Shard(start=start_at)
    start = -2 if start_at == "TRIM_HORIZON" else int(start_at)   # TRIM_HORIZON is below every number
    last, delivered, at_end, lost, closed, accept, written = (start, 0), [], None, False, False, True, []

    def expect(arg, sub):
        """What the KCL would do: an error's name, or None (and the model's state advanced)."""
        nonlocal last, lost
        if closed:
            return INVALID_STATE
        largest = END if at_end is not None else ((delivered[-1], 0) if delivered else last)
        if arg is None:
            target = largest
        elif arg == SHARD_END or (arg.isdigit() and arg.isascii()):
            target = END if arg == SHARD_END else (int(arg), sub)
            if not last <= target <= largest:
                return ILLEGAL_ARGUMENT
        else:
            return ILLEGAL_ARGUMENT
        if target == last:
            return None
        if target == at_end:
            target = END
            if target == last:
                return None
        if lost or not accept:
            lost = True
            return SHUTDOWN
        written.append(SHARD_END if target == END else str(target[0]))  # no sub-sequence in the lease
        last = target
        return None

    for op, a, b in ops:
        if op == "deliver":
            if at_end is None and not closed:
                first = (delivered[-1] if delivered else max(start, -1)) + 1 + a  # after the start
                shard.batch(first, b)
                delivered.extend(range(first, first + b))
            continue
        if op == "refuse":
            accept = shard.accept = not a
            continue
        if op == "end_shard":
            shard.checkpointer.end_shard()
            if at_end is None:
                at_end = (delivered[-1], 0) if delivered else last
            continue
        if op == "close":
            shard.checkpointer.close()
            closed = True
            continue
        if op == "checkpoint":
            arg = None if a is None else str((delivered[-1] if delivered else start) + a)
            sub = b if arg is not None else None
        else:
            arg, sub = a, 0
        wanted = expect(arg, sub)
        try:
            shard.checkpointer.checkpoint(arg, sub)
            got = None
        except CheckpointError as error:
            got = error.value
        assert got == wanted, (op, arg, sub)
        assert shard.writes == written
    assert shard.checkpointer.written == len(written)

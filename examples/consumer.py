"""A consumer of one shard, shaped as the tutorial's: ``consume_naive`` as it is usually first written,
``consume`` once its tests on kinsim showed what it misses (see "Test your own consumer" in the README)."""

import time


def consume_naive(kinesis, stream, shard_id, handle, polls, sleep=time.sleep):
    """Read the shard from its start, handing each record to ``handle``, ten polls a second."""
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    for _ in range(polls):
        answer = kinesis.get_records(ShardIterator=iterator)
        for record in answer["Records"]:
            handle(record)
        iterator = answer["NextShardIterator"]
        sleep(0.1)


def consume(kinesis, stream, shard_id, handle, polls, sleep=time.sleep):
    """The same, but it backs off when throttled and starts again after the last record it handled when
    its iterator has expired."""
    def iterator_after(sequence_number):
        position = {"ShardIteratorType": "TRIM_HORIZON"} if sequence_number is None else \
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": sequence_number}
        return kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, **position)["ShardIterator"]

    last = None
    iterator = iterator_after(last)
    for _ in range(polls):
        try:
            answer = kinesis.get_records(ShardIterator=iterator)
        except kinesis.exceptions.ProvisionedThroughputExceededException:
            sleep(1.0)                         # over the shard's 5 reads a second: back off
            continue
        except kinesis.exceptions.ExpiredIteratorException:
            iterator = iterator_after(last)    # idle over 5 minutes: resume after the last record handled
            continue
        for record in answer["Records"]:
            handle(record)
            last = record["SequenceNumber"]
        iterator = answer["NextShardIterator"]
        sleep(0.1)

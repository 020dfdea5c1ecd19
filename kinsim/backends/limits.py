"""The Kinesis service limits the simulated shards enforce (DESIGN §4), in one place.

Sizes are bytes; a record's size is its data plus its partition key in UTF-8.
"""

MiB = 1024 * 1024

MAX_RECORD_BYTES = 1 * MiB            # Data + PartitionKey of one record
MAX_PUT_RECORDS_COUNT = 500           # records in one PutRecords call
MAX_PUT_RECORDS_BYTES = 5 * MiB       # all records of one PutRecords call, partition keys included
MAX_PARTITION_KEY_CHARS = 256
MAX_GET_RECORDS_LIMIT = 10_000        # GetRecords Limit, also its default
MAX_GET_RECORDS_BYTES = 10 * MiB      # bytes one GetRecords call returns at most

SHARD_WRITE_RECORDS_PER_S = 1_000
SHARD_WRITE_BYTES_PER_S = 1 * MiB
SHARD_READ_CALLS_PER_S = 5
SHARD_READ_BYTES_PER_S = 2 * MiB

ITERATOR_LIFETIME_S = 300.0           # a shard iterator expires 5 minutes after it was issued

DEFAULT_RETENTION_HOURS = 24
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760

DEFAULT_SHARD_LIMIT = 500             # open shards per account and region
MAX_SHARD_LIMIT = 100_000             # the most a scenario may raise it to (UpdateShardCount's own ceiling)
MAX_STREAM_NAME_CHARS = 128
STREAM_NAME_PATTERN = r"[a-zA-Z0-9_.-]+"
HASH_KEY_PATTERN = r"0|([1-9]\d{0,38})"
SEQUENCE_NUMBER_PATTERN = r"0|([1-9]\d{0,128})"
SHARD_ID_PATTERN = r"[a-zA-Z0-9_.-]+"
MAX_SHARD_ITERATOR_CHARS = 512

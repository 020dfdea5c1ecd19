"""``FaultyClient``: a boto3-shaped Kinesis client that fails the way a real network and service do.

Wrap any client (``kinsim.client()``, or boto3's against kinesalite) and, with a seeded generator,
inject the faults that decide whether a producer or consumer loses or doubles records:

- ``throttle``: a call answers ``ProvisionedThroughputExceededException`` and does nothing;
- ``partial``: each record of a PutRecords batch fails alone with that code, the rest are written;
- ``lost_response``: a put is written, then its answer is lost (a read timeout): a retry duplicates it;
- ``lost_request``: a put times out before it reaches the service: nothing is written;
- ``expire``: a GetRecords answers ``ExpiredIteratorException``.

``injected`` counts what was injected, so a test can check a client's bookkeeping against it:
``written_then_lost_records`` were really written before their answer was lost (a retry doubles them);
``unanswered_records`` were in any put that got no answer, written or not (what a client cannot tell).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

__all__ = ["FaultyClient"]


class FaultyClient:
    def __init__(self, client: Any, *, seed: int = 0, throttle: float = 0.0, partial: float = 0.0,
                 lost_response: float = 0.0, lost_request: float = 0.0, expire: float = 0.0) -> None:
        self.client = client
        self.rates = {"throttle": throttle, "partial": partial, "lost_response": lost_response,
                      "lost_request": lost_request, "expire": expire}
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(seed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)  # every call and attribute not faulted here

    def _roll(self, fault: str) -> bool:
        return self.rates[fault] > 0 and self._rng.random() < self.rates[fault]

    @staticmethod
    def _error(code: str, message: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message},
                            "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)

    def _lost(self) -> ReadTimeoutError:
        return ReadTimeoutError(endpoint_url="http://127.0.0.1/injected-fault")

    def _before_put(self, operation: str, records: int) -> None:
        if self._roll("throttle"):
            self.injected["throttled_calls"] += 1
            raise self._error("ProvisionedThroughputExceededException", "Rate exceeded (injected).", operation)
        if self._roll("lost_request"):
            self.injected["lost_requests"] += 1
            self.injected["unanswered_records"] += records
            raise self._lost()

    def put_record(self, **params: Any) -> dict:
        self._before_put("PutRecord", 1)
        response = self.client.put_record(**params)
        if self._roll("lost_response"):
            self.injected["lost_responses"] += 1
            self.injected["written_then_lost_records"] += 1
            self.injected["unanswered_records"] += 1
            raise self._lost()
        return response

    def put_records(self, **params: Any) -> dict:
        records = params["Records"]
        self._before_put("PutRecords", len(records))
        failing = [self._roll("partial") for _ in records]
        sent = [record for record, fails in zip(records, failing) if not fails]
        answered = iter(self.client.put_records(**dict(params, Records=sent))["Records"] if sent else ())
        results = []
        for fails in failing:
            if fails:
                self.injected["partially_failed_records"] += 1
                results.append({"ErrorCode": "ProvisionedThroughputExceededException",
                                "ErrorMessage": "Rate exceeded (injected)."})
            else:
                results.append(next(answered))
        if self._roll("lost_response"):
            self.injected["lost_responses"] += 1
            self.injected["written_then_lost_records"] += len(sent)
            self.injected["unanswered_records"] += len(records)
            raise self._lost()
        failed = sum("ErrorCode" in r for r in results)
        return {"FailedRecordCount": failed, "Records": results}

    def get_records(self, **params: Any) -> dict:
        if self._roll("throttle"):
            self.injected["throttled_calls"] += 1
            raise self._error("ProvisionedThroughputExceededException", "Rate exceeded (injected).", "GetRecords")
        if self._roll("expire"):
            self.injected["expired_iterators"] += 1
            raise self._error("ExpiredIteratorException", "Iterator expired (injected).", "GetRecords")
        return self.client.get_records(**params)

"""Hypothesis strategies only kinsim's own tests need; the ones users want too are ``kinsim.strategies``.

- ``bad_input``: scenario files mutated from the shipped ones or pushed to their limits, small runnable
  ones at the edges, and calls to every Kinesis operation with whatever botocore lets through;
- ``faults``: valid fault schedules spoilt by one fault that cannot happen, with the error it gets;
- ``leases``: plans of lease runs for the pure lease logic (``kinsim.leases``);
- ``wire``: the parameters and responses of every operation kinsim serves, typed as botocore's model says.
"""

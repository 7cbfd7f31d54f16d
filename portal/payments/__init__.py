"""Card payment of fees still held in FBS (issue 8): orders, the state machine, the queue.

`init_app` builds the app's `PaymentRuntime` and `PaymentQueue`; the worker runs in the portal
process unless PORTAL_QUEUE_WORKER=external (then `flask payments worker` runs it). Only
`portal.payments.setup` and the web layer know Flask.
"""

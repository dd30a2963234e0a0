"""Locks shared by the local cloud's hooks (moto serves each request on its own thread)."""

import threading

# Taken around CloudWatch request handling, metric-filter publishing and alarm evaluation.
# Never hold it across an SNS publish or a Lambda run: SNS can invoke a Lambda that calls
# CloudWatch back on another thread.
cloudwatch_lock = threading.RLock()

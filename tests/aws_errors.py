"""What AWS (or the local cloud) answered when a call was refused, for tests that check the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """The error code and message of the ClientError that call raises (the test fails if it raises none)."""
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]

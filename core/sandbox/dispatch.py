"""moto's request dispatcher (which of its services answers a request), without the folder scan
it does on every request.

moto's `DomainDispatcherApplication` asks whether a request's host names one of its services by
listing moto's package folder, one `isdir` per entry (~170), on every request and under its lock,
so concurrent requests wait for each other's scans. The folder does not change while the sandbox
serves: it is listed once here. Which service answers stays moto's decision.
"""

from __future__ import annotations

import functools
from typing import Any

from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


@functools.cache
def _moto_services() -> frozenset[str]:
    """The names moto's dispatcher takes as a service when a request's host is one of them."""
    return frozenset(backends.list_of_moto_modules())


class MotoDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, with its list of services read once."""

    def __init__(self) -> None:
        super().__init__(create_backend_app)

    def get_backend_for_host(self, host: str | None) -> Any:
        # A host that is not a service's name (the usual case: the host the signature names,
        # `bedrock.us-east-1.amazonaws.com`) is matched against moto's URL patterns at once;
        # anything else (no host, moto's own API, no pattern matching) goes to moto as it is.
        if host is not None and host != "moto_api" and host not in _moto_services():
            for backend, pattern in self.backend_url_patterns:
                if pattern.match(f"http://{host}"):
                    return backend
        return super().get_backend_for_host(host)

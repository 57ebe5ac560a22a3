"""respx for the AI SDKs: `respx.mock(using="httpx2")` mocks what goes through httpx2.

anthropic 2.x and openai 3.x send their requests through httpx2 (httpx's successor), which
respx does not patch: its mockers target httpx and httpcore. Importing this module registers
one more respx mocker that patches `httpx2.HTTPTransport.handle_request`, turns each httpx2
request into an httpx one for respx's routes, and turns the routed answer back: a response
becomes an httpx2 response, an httpx transport error (a `side_effect=httpx.ReadTimeout`)
becomes the httpx2 error of the same name, so the SDK sees exactly what a real failure gives.
The SDKs' own request building, response parsing and error mapping all run for real.
"""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
from respx.mocks import AbstractRequestMocker


class HTTPX2Mocker(AbstractRequestMocker):
    name = "httpx2"
    targets = ["httpx2._transports.default.HTTPTransport"]
    target_methods = ["handle_request"]

    @classmethod
    def to_httpx_request(cls, **kwargs: Any) -> httpx.Request:
        request: httpx2.Request = kwargs["request"]
        return httpx.Request(request.method, str(request.url), headers=list(request.headers.raw),
                             content=request.read())

    @classmethod
    def prepare_sync_request(cls, httpx_request: httpx.Request, **kwargs: Any) -> tuple[httpx.Request, Any]:
        return httpx_request, kwargs

    @classmethod
    def _send_sync_request(cls, httpx_request: httpx.Request, *, target_spec: Any, instance: Any,
                           **kwargs: Any) -> Any:
        try:
            return super()._send_sync_request(httpx_request, target_spec=target_spec, instance=instance, **kwargs)
        except httpx.TransportError as exc:
            twin = getattr(httpx2, type(exc).__name__, httpx2.TransportError)
            raise twin(str(exc), request=kwargs["request"]) from None

    @classmethod
    def from_sync_httpx_response(cls, httpx_response: httpx.Response, target: Any, **kwargs: Any) -> httpx2.Response:
        return httpx2.Response(httpx_response.status_code, headers=list(httpx_response.headers.raw),
                               content=httpx_response.read(), request=kwargs["request"])

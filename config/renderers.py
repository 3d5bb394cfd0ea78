"""The JSON renderer every API answers with (REST_FRAMEWORK's DEFAULT_RENDERER_CLASSES).

Its own module: `config.api` imports DRF's views, whose import reads the renderer setting, which would import it
back half-initialised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.utils import encoders


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON renderer with the encoding done by orjson (C), which writes the same JSON: a recommendation
    response spent ~4% of its CPU in the standard library's encoder. What orjson would write differently goes
    through DRF's encoder: datetimes and dataclasses are handed to its `default` (datetimes end in "Z" as DRF
    writes them), an indented answer (the browsable API's `indent=`) and anything orjson refuses (an integer
    beyond 64 bits) are rendered by DRF itself. U+2028/U+2029 are escaped as DRF does (JSON inside a script)."""

    _options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    _default = staticmethod(encoders.JSONEncoder().default)

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        plain = self.compact and not self.ensure_ascii  # DRF's defaults (COMPACT_JSON, UNICODE_JSON): orjson's JSON
        if plain and self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            try:
                rendered = orjson.dumps(data, default=self._default, option=self._options)
            except orjson.JSONEncodeError:
                pass
            else:
                return rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return super().render(data, accepted_media_type, renderer_context)


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with its answer for the two Accept headers API clients send ("application/json", and
    "*/*" or none) given without parsing: JSON, the first renderer. Anything else (the browsable API's
    text/html, `?format=`, a format suffix, a header with parameters or several types) is DRF's own choice.
    Parsing the header and matching it against every renderer was ~2% of a served list's CPU."""

    PLAIN = frozenset({"application/json", "*/*"})

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        if (
            renderers
            and not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*") in self.PLAIN
            and renderers[0].media_type == "application/json"
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], "application/json"
        chosen: tuple[BaseRenderer, str] = super().select_renderer(request, renderers, format_suffix)
        return chosen

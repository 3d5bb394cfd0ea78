"""The storefront's API types follow the OpenAPI schema: the committed `frontend/src/api/schema.d.ts` is what the
API's schema gives now (`make lint` runs the same check), and a change to the schema is a drift the check reports,
naming what changed, so CI fails until `make api-types` regenerates the file."""

from __future__ import annotations

import copy

from config import api_types


def test_committed_types_match_the_schema_and_a_schema_change_is_reported() -> None:
    # given the API's schema as /api/schema/ serves it
    schema = api_types.openapi_schema()

    # then the committed types are exactly what it gives
    assert api_types.drift(schema) == "", "frontend/src/api/schema.d.ts is stale: run `make api-types`"

    # when the API grows a product field the storefront's types do not have yet
    changed = copy.deepcopy(schema)
    product = changed["components"]["schemas"]["ProductOutput"]
    product["properties"]["colour"] = {"type": "string", "readOnly": True}
    product["required"].append("colour")
    diff = api_types.drift(changed)

    # then the check fails, and says what the regenerated file would add
    assert diff
    assert any(line.startswith("+") and "colour: string;" in line for line in diff.splitlines())

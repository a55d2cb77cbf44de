"""The JSON Schema (draft 2020-12) of the posting format, for editors and check-jsonschema."""

from __future__ import annotations

from typing import Any

from publisher.schema import Posting

__all__ = ["SCHEMA_ID", "posting_json_schema"]

SCHEMA_ID = "https://jobpub.dev/schema/posting.schema.json"


def posting_json_schema() -> dict[str, Any]:
    """``Posting`` as JSON Schema; cross-field rules stay in ``jobpub validate``.

    What a JSON Schema can say, it says, so an editor is not green on a file CI rejects:
    the board names (each board's overrides are its settings, nothing else), and that
    ``apply`` needs a url or an e-mail.
    """
    from publisher.registry import boards as _boards

    schema = Posting.model_json_schema(mode="validation")
    defs = schema.setdefault("$defs", {})
    boards: dict[str, Any] = {}
    for name, cls in sorted(_boards().items()):
        settings = cls.settings_model.model_json_schema(mode="validation")
        defs.update(settings.pop("$defs", {}))
        key = f"{cls.settings_model.__name__}"
        defs[key] = {**settings, "additionalProperties": False}
        boards[name] = {"anyOf": [{"$ref": f"#/$defs/{key}"}, {"type": "null"}]}
    schema["properties"]["boards"] = {
        **{
            k: v
            for k, v in schema["properties"]["boards"].items()
            if k not in ("patternProperties", "propertyNames")
        },
        "properties": boards,
        "additionalProperties": False,
    }
    defs["Apply"]["anyOf"] = [
        {"required": [field], "properties": {field: {"type": "string"}}}
        for field in ("url", "email")
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "jobpub posting",
        "description": "One job posting (postings/<id>.yaml). Cross-field rules (salary "
        "range, dates, remote eligibility, placeholders, board rules) are "
        "checked by `jobpub validate`.",
    }

"""The JSON Schema (draft 2020-12) of the posting format, for editors and check-jsonschema."""

from __future__ import annotations

from typing import Any

from publisher.schema import Posting

__all__ = ["SCHEMA_ID", "posting_json_schema"]

SCHEMA_ID = "https://jobpub.dev/schema/posting.schema.json"


def posting_json_schema() -> dict[str, Any]:
    """``Posting`` as JSON Schema; cross-field rules stay in ``jobpub validate``."""
    schema = Posting.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "jobpub posting",
        "description": "One job posting (postings/<id>.yaml). Cross-field rules (salary "
                       "range, dates, remote eligibility, placeholders, board rules) are "
                       "checked by `jobpub validate`.",
    }

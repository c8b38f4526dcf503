"""The OpenAPI document of the intake API, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from channels.api import ApiComplaint

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message"],
        }
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def openapi_document() -> dict[str, Any]:
    body_schema = ApiComplaint.model_json_schema(ref_template="#/components/schemas/{model}")
    components = body_schema.pop("$defs", {})
    components["ApiComplaint"] = body_schema
    accepted = {
        "type": "object",
        "properties": {
            "reference": {"type": "string", "example": "QC-202611-000042"},
            "raw_id": {"type": "integer"},
            "status": {"type": "string"},
            "duplicate": {"type": "boolean"},
            "url": {"type": "string"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Complaint intake gateway", "version": "1"},
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/complaints": {
                "post": {
                    "summary": "Submit a complaint",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "schema": {"type": "string"},
                            "description": "the same key and body is one complaint; "
                            "without a key, the same body is",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ApiComplaint"}
                            }
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "archived; processing follows",
                            "content": {"application/json": {"schema": accepted}},
                        },
                        "200": {"description": "a re-delivery of an earlier submission"},
                        "400": _error("not JSON"),
                        "401": _error("missing or invalid API key"),
                        "403": _error("channel account disabled"),
                        "404": _error("unknown channel account"),
                        "409": _error("Idempotency-Key reused with another body"),
                        "413": _error("body too large"),
                        "422": _error("invalid fields"),
                    },
                }
            },
            "/api/v1/complaints/{reference}": {
                "get": {
                    "summary": "A complaint record with routing and history",
                    "parameters": [
                        {
                            "name": "reference",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "the record"},
                        "202": {"description": "received, not yet processed"},
                        "404": _error("unknown reference"),
                    },
                }
            },
        },
    }

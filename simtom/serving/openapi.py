"""The OpenAPI document of the server (``GET /openapi.json``), written out by hand: the routes
are few, and each generator's configuration schema is the same one ``GET /generators`` serves."""

from __future__ import annotations

from typing import Any

from simtom.engine import registry


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document(version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error", "detail"],
            "properties": {
                "error": {"type": "string", "description": "Kind of error"},
                "detail": {"type": "string", "description": "What is wrong and what is allowed"},
                "field": {"type": "string", "description": "The offending field"},
                "value": {"description": "The value given"},
                "allowed": {"type": "string", "description": "What the field accepts"},
            },
        },
    }
    for gen in registry.generators():
        schema = dict(gen.config_schema())
        schema.pop("$schema", None)
        schemas[f"{gen.name}_config"] = schema
    names = registry.available()
    name_param = {"name": "name", "in": "path", "required": True,
                  "schema": {"type": "string", "enum": names}}
    stream_params = [
        name_param,
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["sse", "ndjson"]},
         "description": "sse (default) or ndjson; or send Accept: application/x-ndjson"},
        {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"},
         "description": "Resume just after this event (also as ?last_event_id=)"},
    ]
    stream_responses = {
        "200": {"description": "The records, as Server-Sent Events or NDJSON",
                "content": {"text/event-stream": {"schema": {"type": "string"}},
                            "application/x-ndjson": {"schema": {"type": "string"}}}},
        "204": {"description": "Resumed after the last record: nothing left"},
        "400": _error("Invalid configuration (names the field)"),
        "404": _error("Unknown generator"),
        "409": _error("Last-Event-ID from a stream with another configuration"),
        "413": _error("Request body too large"),
        "429": _error("Too many concurrent streams (Retry-After)"),
        "503": _error("The server's memory budget is taken (Retry-After)"),
    }
    drift_params = [
        {"name": "points", "in": "query", "schema": {"type": "integer", "minimum": 2},
         "description": "Instants spread evenly over the scenario's span (default 101)"},
        {"name": "at", "in": "query", "schema": {"type": "string", "format": "date-time"},
         "description": "An instant to report (repeatable); instead of points"},
    ]
    drift_responses = {
        "200": {"description": "The effective scenario and, per instant, the expected drift "
                               "intensity overall and on each target (covariate, prior, "
                               "concept)",
                "content": {"application/json": {"schema": {"type": "object"}}}},
        "400": _error("Invalid configuration (names the field)"),
        "404": _error("Unknown generator"),
    }
    config_body = {"oneOf": [{"$ref": f"#/components/schemas/{n}_config"} for n in names]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "simtom", "version": version,
                 "description": "Synthetic data streams for testing ML systems"},
        "paths": {
            "/": {"get": {"summary": "Health", "responses": {"200": {"description": "healthy"}}}},
            "/health/ready": {"get": {
                "summary": "Readiness: 200 once the kernels are loaded, 503 before",
                "responses": {"200": {"description": "ready"},
                              "503": {"description": "warming up (Retry-After)"}}}},
            "/metrics": {"get": {
                "summary": "Metrics in the Prometheus text format",
                "responses": {"200": {"description": "Streams open, records and bytes sent, "
                                                     "refusals, ends, memory held, timings",
                                      "content": {"text/plain": {
                                          "schema": {"type": "string"}}}}}}},
            "/generators": {"get": {"summary": "Generators with their configuration schemas",
                                    "responses": {"200": {"description": "A list"}}}},
            "/generators/{name}": {"get": {"summary": "One generator", "parameters": [name_param],
                                           "responses": {"200": {"description": "It"},
                                                         "404": _error("Unknown generator")}}},
            "/stream/{name}": {
                "post": {"summary": "Stream records (JSON configuration body)",
                         "parameters": stream_params,
                         "requestBody": {"content": {"application/json": {
                             "schema": config_body}}},
                         "responses": stream_responses},
                "get": {"summary": "Stream records (configuration in the query, for EventSource)",
                        "parameters": stream_params, "responses": stream_responses},
            },
            "/drift/{name}": {
                "get": {"summary": "The drift schedule of a configuration (in the query; "
                                   "points=N or at=instant, repeatable)",
                        "parameters": [name_param, *drift_params],
                        "responses": drift_responses},
                "post": {"summary": "The drift schedule of a configuration (JSON body; may "
                                    "hold points or at)",
                         "parameters": [name_param],
                         "requestBody": {"content": {"application/json": {
                             "schema": config_body}}},
                         "responses": drift_responses},
            },
        },
        "components": {"schemas": schemas},
    }

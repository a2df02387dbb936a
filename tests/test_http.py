"""Request parsing: configuration from query strings."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from simtom.serving._http import query_config


def test_query_values_are_json_when_they_parse_else_strings():
    q = QueryParams("seed=42&rate_per_second=2.5&paced=false&start_time=2025-01-01"
                    "&arrival_pattern=nhpp&total_records=null&format=ndjson&last_event_id=1.2")
    assert query_config(q) == {"seed": 42, "rate_per_second": 2.5, "paced": False,
                               "start_time": "2025-01-01", "arrival_pattern": "nhpp",
                               "total_records": None}


def test_lists_by_repetition_by_commas_or_as_json():
    for query in ("peak_hours=12&peak_hours=19", "peak_hours=12,19", "peak_hours=[12,19]"):
        assert query_config(QueryParams(query)) == {"peak_hours": [12, 19]}, query
    weights = QueryParams('risk_scenario_weights={"impulse_purchase":1}')
    assert query_config(weights) == {"risk_scenario_weights": {"impulse_purchase": 1}}

"""google-genai SDK objects (as OGX / llama-stack record them) to the Gemini wire JSON.

OGX records Vertex AI calls made through the google-genai SDK as SDK keyword arguments and SDK objects:
`vertexai:///generate_content[_stream]`, a body `{"model": "publishers/google/models/M", "contents": …,
"config": {…}}` in snake_case, and responses with `sdk_http_response`. Replaying them means serving what
the API sent (camelCase JSON) to a request as the SDK puts it on the wire, so both sides are converted
here the way google-genai converts them (checked against the SDK itself for all of OGX's recordings in
`tests/unit/test_gemini_sdk.py`), including its quirks: `generationConfig` is `{}` as soon as a config
is given (and not empty); a JSON-schema `response_schema` gets upper-case types, `additional_properties` and (with
several properties) a `property_ordering`; `parameters_json_schema` keeps its name and content.
"""

from __future__ import annotations

import re
from typing import Any

JSON = Any

SCHEMES = ("vertexai://", "gemini://")
_METHODS = {"generate_content": "generateContent", "generate_content_stream": "streamGenerateContent"}

# `GenerateContentConfig` fields that go into the request's `generationConfig` (the others are
# request fields of their own: system_instruction, tools, tool_config, safety_settings, labels…).
_GENERATION = {
    "temperature", "top_p", "top_k", "candidate_count", "max_output_tokens", "stop_sequences", "response_logprobs",
    "logprobs", "presence_penalty", "frequency_penalty", "seed", "response_mime_type", "response_schema",
    "response_json_schema", "routing_config", "model_selection_config", "response_modalities", "media_resolution",
    "speech_config", "audio_timestamp", "thinking_config", "enable_affective_dialog", "image_config",
}  # fmt: skip
_TOP_LEVEL = {"system_instruction", "tools", "tool_config", "safety_settings", "labels", "cached_content"}
# Values that are user data, not SDK fields: their keys are kept as they are.
_OPAQUE = {"args", "response", "parameters_json_schema", "response_json_schema", "labels", "struct_value"}
_KEPT_NAMES = {"parameters_json_schema"}  # sent under its Python name (as google-genai does)


def is_sdk_recording(url: str) -> bool:
    return url.startswith(SCHEMES)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def to_camel(value: JSON, opaque: frozenset[str] | set[str] = _OPAQUE) -> JSON:
    """SDK snake_case field names to the wire's camelCase, leaving user data (tool arguments…) alone."""
    if isinstance(value, dict):
        return {
            (k if k in _KEPT_NAMES else camel(k)): (v if k in opaque else to_camel(v, opaque)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [to_camel(v, opaque) for v in value]
    return value


def _content(value: JSON) -> JSON:
    if isinstance(value, str):
        return {"parts": [{"text": value}], "role": "user"}
    return to_camel(value)


def _contents(value: JSON) -> JSON:
    if isinstance(value, str | dict):
        value = [value]
    return [_content(c) for c in value] if isinstance(value, list) else value


def _schema(value: JSON) -> JSON:
    """A JSON schema as google-genai sends it as a `Schema`: upper-case types, `additional_properties`,
    and the properties' order made explicit."""
    if not isinstance(value, dict):
        return value
    out: dict[str, JSON] = {}
    for key, item in value.items():
        if key == "type" and isinstance(item, str):
            out["type"] = item.upper()
        elif key == "additionalProperties":
            out["additional_properties"] = item
        elif key == "properties" and isinstance(item, dict):
            out["properties"] = {name: _schema(sub) for name, sub in item.items()}
            if len(item) > 1 and "propertyOrdering" not in value and "property_ordering" not in value:
                out["property_ordering"] = list(item)
        elif key in ("items", "anyOf", "any_of") and item is not None:
            out[key] = [_schema(s) for s in item] if isinstance(item, list) else _schema(item)
        else:
            out[key] = item
    return out


def wire_request(body: JSON) -> tuple[str, JSON]:
    """(model, the JSON body the SDK sends) from the SDK's keyword arguments."""
    model = str(body.get("model") or "")
    model = model.rsplit("/", 1)[-1]  # publishers/google/models/M or models/M
    out: dict[str, JSON] = {"contents": _contents(body.get("contents"))}
    config = body.get("config")
    if isinstance(config, dict) and config:  # an empty config is no config
        generation: dict[str, JSON] = {}
        for key, value in config.items():
            if value is None:
                continue
            if key in _GENERATION:
                generation[camel(key)] = _schema(value) if key == "response_schema" else to_camel(value)
            elif key == "system_instruction":
                out["systemInstruction"] = _content(value)
            elif key in _TOP_LEVEL:
                out[camel(key)] = value if key == "labels" else to_camel(value)
        out["generationConfig"] = generation
    return model, out


def wire_response(value: JSON) -> JSON:
    """An SDK response object as the API sent it: camelCase, without the SDK's own fields."""
    if not isinstance(value, dict):
        return value
    data = {k: v for k, v in value.items() if k not in ("sdk_http_response", "automatic_function_calling_history")}
    return to_camel(data)


def wire_url(url: str, model: str) -> tuple[str, bool]:
    """The Vertex URL the SDK calls for an OGX URL (`vertexai:///generate_content_stream`), and whether it
    streams; ValueError for a method this module does not convert."""
    method = re.sub(r"^[a-z]+:/+", "", url).strip("/")
    if method not in _METHODS:
        raise ValueError(f"a google-genai recording of {method!r}, which llm-vcr does not replay")
    wire = _METHODS[method]
    query = "?alt=sse" if wire == "streamGenerateContent" else ""
    return f"https://aiplatform.googleapis.com/v1beta1/publishers/google/models/{model}:{wire}{query}", query != ""


def convert(url: str, body: JSON, response_body: JSON) -> tuple[str, JSON, JSON, str]:
    """(wire URL, wire request body, response as typed envelopes, model) of an SDK recording."""
    if not isinstance(body, dict):
        raise ValueError("the request body of a google-genai recording is not a JSON object")
    model, wire_body = wire_request(body)
    wire, _ = wire_url(url, model)
    kind = "google.genai.types.GenerateContentResponse"
    if isinstance(response_body, list):
        response = [{"__type__": kind, "__data__": wire_response(item)} for item in response_body]
    else:
        response = {"__type__": kind, "__data__": wire_response(response_body)}
    return wire, wire_body, response, model

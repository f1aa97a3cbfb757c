"""Drives a running kubeinfer worker with the official OpenAI Python SDK, as an application would, and checks
what comes back; run by sdk_test.go (the Node SDK's openai_node.mjs does the same checks).

Usage: python3 openai_python.py BASE_URL MODEL   (PYTHONPATH: third_party/openai-python; Debian's httpx,
pydantic, anyio, distro, sniffio, tqdm and jsonschema). Prints one JSON line of results; exits non-zero with the
failures on stderr.
"""
import json
import math
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
results, failures = {}, []


def check(name):
    def run(fn):
        try:
            out = fn()
            results[name] = "ok" if out is None else out
        except Exception:  # every failure is reported, not just the first
            failures.append(f"{name}: {traceback.format_exc()}")
        return fn

    return run


schema = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["func", "type", "var"]},
        "n": {"type": "integer", "minimum": 0, "maximum": 999},
        "ok": {"type": "boolean"},
        "tag": {"type": "string", "maxLength": 4},
        "day": {"type": "string", "format": "date"},
    },
    "required": ["kind", "n", "ok"],
    "additionalProperties": False,
}
user = lambda text: [{"role": "user", "content": text}]


@check("chat")
def _():
    r = client.chat.completions.create(model=model, messages=user("func main() {"), max_tokens=8, temperature=0)
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content
    assert r.usage.completion_tokens > 0
    return r.choices[0].message.content


@check("stream with usage and logprobs")
def _():
    s = client.chat.completions.create(model=model, messages=user("func main() {"), max_tokens=8, temperature=0,
                                       stream=True, stream_options={"include_usage": True}, logprobs=True,
                                       top_logprobs=2)
    text, lps, usage, finish = "", 0, None, None
    for c in s:
        for ch in c.choices:
            text += ch.delta.content or ""
            lps += len(ch.logprobs.content) if ch.logprobs and ch.logprobs.content else 0
            for lp in (ch.logprobs.content if ch.logprobs and ch.logprobs.content else []):
                assert len(lp.top_logprobs) == 2 and lp.logprob <= 0
            finish = ch.finish_reason or finish
        usage = c.usage or usage
    assert lps == usage.completion_tokens, (lps, usage)
    assert finish in ("length", "stop")
    return text


@check("n and seed")
def _():
    p = dict(model=model, prompt="package main\n\nfunc ", max_tokens=12, temperature=1, seed=42, n=3)
    a, b = client.completions.create(**p), client.completions.create(**p)
    assert len(a.choices) == 3
    assert [c.text for c in a.choices] == [c.text for c in b.choices]
    assert len({c.text for c in a.choices}) > 1, "three choices should differ"
    return [c.index for c in a.choices]


@check("json_schema over 100 seeds")
def _():
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

    def one(seed):
        return client.chat.completions.create(
            model=model, messages=user("Describe a Go identifier as JSON."), temperature=1, seed=seed,
            extra_body={"max_completion_tokens": 400},  # newer than this SDK: sent as an application would
            response_format={"type": "json_schema", "json_schema": {"name": "ident", "schema": schema, "strict": True}})

    with ThreadPoolExecutor(16) as pool:
        outputs = list(pool.map(one, range(100)))
    bad = []
    for seed, r in enumerate(outputs):
        text = r.choices[0].message.content
        try:
            errors = [e.message for e in validator.iter_errors(json.loads(text))]
        except ValueError as e:
            errors = [str(e)]
        if r.choices[0].finish_reason != "stop" or errors:
            bad.append({"seed": seed, "text": text, "finish": r.choices[0].finish_reason, "errors": errors})
    assert bad == [], bad
    return {"seeds": len(outputs), "failures": len(bad), "distinct": len({r.choices[0].message.content for r in outputs})}


@check("tool round trip")
def _():
    tools = [
        {"type": "function", "function": {"name": "add", "description": "Adds two integers.", "parameters": {
            "type": "object", "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 99},
                                             "b": {"type": "integer", "minimum": 0, "maximum": 99}},
            "required": ["a", "b"]}}},
        {"type": "function", "function": {"name": "lookup", "parameters": {
            "type": "object", "properties": {"q": {"type": "string", "maxLength": 8}}, "required": ["q"]}}},
    ]
    messages = user("What is 2 + 3?")
    req = dict(model=model, tools=tools, tool_choice="required", parallel_tool_calls=False, temperature=0.5, seed=3,
               max_tokens=120)
    first = client.chat.completions.create(messages=messages, **req)
    msg = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert len(msg.tool_calls) == 1
    call = msg.tool_calls[0]
    assert call.function.name in ("add", "lookup")
    assert isinstance(json.loads(call.function.arguments), dict)
    # The same request streamed, its call assembled from the deltas as an application does.
    calls = {}
    for c in client.chat.completions.create(messages=messages, stream=True, **req):
        for d in c.choices[0].delta.tool_calls or [] if c.choices else []:
            got = calls.setdefault(d.index, {"name": "", "arguments": ""})
            got["name"] += d.function.name or ""
            got["arguments"] += d.function.arguments or ""
    assert [(v["name"], v["arguments"]) for v in calls.values()] == [(call.function.name, call.function.arguments)]
    messages = messages + [msg.model_dump(exclude_none=True),
                           {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"result": 5})}]
    final = client.chat.completions.create(model=model, messages=messages, tools=tools, tool_choice="none",
                                           temperature=0, max_tokens=10)
    assert not final.choices[0].message.tool_calls
    assert final.usage.prompt_tokens > first.usage.prompt_tokens
    return {"name": call.function.name, "arguments": call.function.arguments}


@check("embeddings")
def _():
    r = client.embeddings.create(model=model, input=["func main() {}", "package stack"])
    assert len(r.data) == 2
    for d in r.data:
        norm = math.sqrt(sum(v * v for v in d.embedding))
        assert abs(norm - 1) < 1e-5, norm
    b = client.embeddings.create(model=model, input="package stack", encoding_format="base64")
    assert isinstance(b.data[0].embedding, str)  # this SDK version hands base64 back as sent
    f = client.embeddings.create(model=model, input="package stack", encoding_format="float")
    assert max(abs(x - y) for x, y in zip(f.data[0].embedding, r.data[1].embedding)) < 1e-7
    return {"dims": [len(d.embedding) for d in r.data], "promptTokens": r.usage.prompt_tokens}


@check("errors name the field")
def _():
    try:
        client.chat.completions.create(model=model, messages=user("x"), response_format={
            "type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "array", "uniqueItems": True}}})
        raise AssertionError("uniqueItems was accepted")
    except openai.BadRequestError as e:
        assert e.status_code == 400 and e.body["param"] == "response_format.json_schema.schema", e.body
        assert "uniqueItems" in e.body["message"], e.body
    try:
        client.chat.completions.create(model=model, messages=user("x"), n=99)
        raise AssertionError("n=99 was accepted")
    except openai.BadRequestError as e:
        assert e.body["param"] == "n", e.body


@check("models")
def _():
    m = client.models.list().data[0]
    assert m.id == model
    d = m.to_dict()  # the fields past OpenAI's are kept
    assert d["max_model_len"] > 0 and d["limits"]["max_choices"] > 0, d
    return d["max_model_len"]


print(json.dumps(results))
if failures:
    print("\n\n".join(failures), file=sys.stderr)
    sys.exit(1)

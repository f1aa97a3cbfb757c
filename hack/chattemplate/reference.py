#!/usr/bin/env python3
"""Renders the tool-calling conversations of worker/chattemplate's reference
test with Python's Jinja2 the way Hugging Face transformers'
apply_chat_template does (ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, loopcontrols, its tojson, raise_exception, strftime_now), and
writes the expected prompts to worker/chattemplate/testdata/tools.json.

The templates (templates.json) are the chat_template values of the models
named there, as published in their tokenizer_config.json. The conversations
are OpenAI requests; they become template messages as the worker turns them:
a tool call's JSON arguments become an object, a null content an empty
string (Qwen3's template, among others, searches content for text).

Usage: python3 hack/chattemplate/reference.py   (needs the jinja2 package)
"""
import json
import os
from datetime import datetime

from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "worker", "chattemplate", "testdata", "tools.json")

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "The weather \"now\" in a city.",
        "parameters": {"type": "object", "properties": {
            "zone": {"type": "string", "description": "Time zone, e.g. Europe/Oslo"},
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "add", "description": "Adds two integers.",
        "parameters": {"type": "object", "properties": {"b": {"type": "integer"}, "a": {"type": "integer"}}, "required": ["b", "a"]}}},
]

CALL = {"id": "call00042", "type": "function", "function": {"name": "get_weather", "arguments": "{\"zone\": \"CET\", \"city\": \"Oslo\", \"unit\": \"c\"}"}}

CONVERSATIONS = {
    "chat": dict(messages=[
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hello, who are you?"},
        {"role": "assistant", "content": "A bot."},
        {"role": "user", "content": "Prove it."}]),
    "tools": dict(messages=[
        {"role": "system", "content": "You answer weather questions."},
        {"role": "user", "content": "What is the weather in Oslo?"}], tools=TOOLS),
    "tool round trip": dict(messages=[
        {"role": "user", "content": "What is the weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call00042", "content": "{\"temp\": -3, \"sky\": \"snow\"}"}], tools=TOOLS),
}


def template_messages(messages):
    """What the worker hands the template for OpenAI messages."""
    out = []
    for m in messages:
        t = {"role": m["role"], "content": m.get("content") or ""}
        if "tool_calls" in m:
            calls = []
            for c in m["tool_calls"]:
                args = c["function"]["arguments"]
                try:
                    parsed = json.loads(args)
                    if isinstance(parsed, dict):
                        args = parsed
                except ValueError:
                    pass
                calls.append({"id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": args}})
            t["tool_calls"] = calls
        if "tool_call_id" in m:
            t["tool_call_id"] = m["tool_call_id"]
        out.append(t)
    return out


def environment():
    # transformers.utils.chat_template_utils._compile_jinja_template
    def raise_exception(message):
        raise ValueError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime(2026, 1, 2).strftime(fmt)  # fixed, so the file does not change daily

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    with open(os.path.join(HERE, "templates.json")) as f:
        templates = json.load(f)
    tokens = {"llama-3.1": ("<|begin_of_text|>", "<|eot_id|>"), "qwen2.5": ("", "<|im_end|>"), "qwen3": ("", "<|im_end|>"),
              "mistral-v0.3": ("<s>", "</s>"), "mistral-nemo": ("<s>", "</s>")}
    env = environment()
    cases = []
    for name in sorted(templates):
        tpl = env.from_string(templates[name]["template"])
        bos, eos = tokens[name]
        for conv_name, conv in CONVERSATIONS.items():
            # apply_chat_template always defines tools, None without any.
            kwargs = dict(messages=template_messages(conv["messages"]), tools=conv.get("tools"), bos_token=bos, eos_token=eos,
                          add_generation_prompt=True)
            try:
                want, err = tpl.render(**kwargs), ""
            except Exception as e:  # the template refuses the conversation
                want, err = "", str(e)
            cases.append({"template": name, "conversation": conv_name, "bos": bos, "eos": eos,
                          "messages": conv["messages"], "tools": conv.get("tools"), "want": want, "error": err})
    with open(OUT, "w") as f:
        json.dump({"templates": templates, "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()

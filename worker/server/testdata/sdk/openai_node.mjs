// Drives a running kubeinfer worker with the official OpenAI Node SDK, as an
// application would, and checks what comes back; run by sdk_test.go.
//
// Usage: node openai_node.mjs BASE_URL MODEL   (NODE_PATH: where openai, ajv
// and ajv-formats are installed). Prints one JSON line of results; exits
// non-zero with the failures on stderr.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH, "noop.js"));
const OpenAI = require("openai").default ?? require("openai");
const Ajv = require("ajv").default;
const addFormats = require("ajv-formats").default;

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
const results = {};
const failures = [];

async function check(name, fn) {
  try {
    results[name] = (await fn()) ?? "ok";
  } catch (e) {
    failures.push(`${name}: ${e.stack ?? e}`);
  }
}

const schema = {
  type: "object",
  properties: {
    kind: { enum: ["func", "type", "var"] },
    n: { type: "integer", minimum: 0, maximum: 999 },
    ok: { type: "boolean" },
    tag: { type: "string", maxLength: 4 },
    day: { type: "string", format: "date" },
  },
  required: ["kind", "n", "ok"],
  additionalProperties: false,
};

await check("chat", async () => {
  const r = await client.chat.completions.create({ model, messages: [{ role: "user", content: "func main() {" }], max_tokens: 8, temperature: 0 });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0].message.role, "assistant");
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.usage.completion_tokens > 0, true);
  return r.choices[0].message.content;
});

await check("stream with usage and logprobs", async () => {
  const s = await client.chat.completions.create({ model, messages: [{ role: "user", content: "func main() {" }], max_tokens: 8,
    temperature: 0, stream: true, stream_options: { include_usage: true }, logprobs: true, top_logprobs: 2 });
  let text = "", lps = 0, usage, finish;
  for await (const c of s) {
    for (const ch of c.choices) {
      text += ch.delta.content ?? "";
      lps += ch.logprobs?.content?.length ?? 0;
      finish = ch.finish_reason ?? finish;
    }
    usage = c.usage ?? usage;
  }
  assert.equal(lps, usage.completion_tokens);
  assert.ok(finish === "length" || finish === "stop");
  return text;
});

await check("n and seed", async () => {
  const p = { model, prompt: "package main\n\nfunc ", max_tokens: 12, temperature: 1, seed: 42, n: 3 };
  const a = await client.completions.create(p);
  const b = await client.completions.create(p);
  assert.equal(a.choices.length, 3);
  assert.deepEqual(a.choices.map((c) => c.text), b.choices.map((c) => c.text));
  assert.ok(new Set(a.choices.map((c) => c.text)).size > 1, "three choices should differ");
  return a.choices.map((c) => c.index);
});

await check("json_schema over 100 seeds", async () => {
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const outputs = await Promise.all(Array.from({ length: 100 }, (_, seed) =>
    client.chat.completions.create({ model, messages: [{ role: "user", content: "Describe a Go identifier as JSON." }],
      response_format: { type: "json_schema", json_schema: { name: "ident", schema, strict: true } },
      temperature: 1, seed, max_completion_tokens: 400 })));
  const bad = [];
  for (const [seed, r] of outputs.entries()) {
    const text = r.choices[0].message.content;
    let ok = r.choices[0].finish_reason === "stop";
    try { ok = ok && validate(JSON.parse(text)); } catch { ok = false; }
    if (!ok) bad.push({ seed, text, finish: r.choices[0].finish_reason, errors: validate.errors });
  }
  assert.deepEqual(bad, []);
  return { seeds: outputs.length, failures: bad.length, distinct: new Set(outputs.map((r) => r.choices[0].message.content)).size };
});

await check("tool round trip", async () => {
  const tools = [
    { type: "function", function: { name: "add", description: "Adds two integers.", parameters: { type: "object",
      properties: { a: { type: "integer", minimum: 0, maximum: 99 }, b: { type: "integer", minimum: 0, maximum: 99 } }, required: ["a", "b"] } } },
    { type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string", maxLength: 8 } }, required: ["q"] } } },
  ];
  const messages = [{ role: "user", content: "What is 2 + 3?" }];
  const first = await client.chat.completions.create({ model, messages, tools, tool_choice: "required", parallel_tool_calls: false,
    temperature: 0.5, seed: 3, max_tokens: 120 });
  const msg = first.choices[0].message;
  assert.equal(first.choices[0].finish_reason, "tool_calls");
  assert.equal(msg.tool_calls.length, 1);
  const call = msg.tool_calls[0];
  assert.ok(["add", "lookup"].includes(call.function.name));
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args, "object");
  // The same request streamed: the SDK's stream helper assembles the call.
  const runner = client.chat.completions.stream({ model, messages, tools, tool_choice: "required", parallel_tool_calls: false,
    temperature: 0.5, seed: 3, max_tokens: 120 });
  const streamed = await runner.finalChatCompletion();
  assert.deepEqual(streamed.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]),
    msg.tool_calls.map((c) => [c.function.name, c.function.arguments]));
  messages.push(msg, { role: "tool", tool_call_id: call.id, content: JSON.stringify({ result: 5 }) });
  const final = await client.chat.completions.create({ model, messages, tools, tool_choice: "none", temperature: 0, max_tokens: 10 });
  assert.ok(!final.choices[0].message.tool_calls?.length);
  assert.ok(final.usage.prompt_tokens > first.usage.prompt_tokens);
  return call.function;
});

await check("embeddings", async () => {
  // The SDK asks for base64 and decodes it.
  const r = await client.embeddings.create({ model, input: ["func main() {}", "package stack"] });
  assert.equal(r.data.length, 2);
  const dims = r.data.map((d) => d.embedding.length);
  for (const d of r.data) {
    const norm = Math.sqrt(d.embedding.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
  }
  const f = await client.embeddings.create({ model, input: "package stack", encoding_format: "float" });
  for (let i = 0; i < f.data[0].embedding.length; i++) {
    assert.ok(Math.abs(f.data[0].embedding[i] - r.data[1].embedding[i]) < 1e-7);
  }
  return { dims, promptTokens: r.usage.prompt_tokens };
});

await check("errors name the field", async () => {
  await assert.rejects(client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }],
    response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "array", uniqueItems: true } } } }),
  (e) => e.status === 400 && e.param === "response_format.json_schema.schema" && /uniqueItems/.test(e.message));
  await assert.rejects(client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }], n: 99 }),
    (e) => e.status === 400 && e.param === "n");
});

await check("models", async () => {
  const list = await client.models.list();
  const m = list.data[0];
  assert.equal(m.id, model);
  assert.ok(m.max_model_len > 0 && m.limits.max_choices > 0);
  return m.max_model_len;
});

console.log(JSON.stringify(results));
if (failures.length) {
  console.error(failures.join("\n\n"));
  process.exit(1);
}

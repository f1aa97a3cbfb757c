// Renders chat templates with @huggingface/jinja, the Jinja implementation of
// transformers.js, as the reference for worker/chattemplate's tests.
//
// Usage: node render.js <npm cache dir> < request.json
// request: {"cases": [{"template": "...", "bos": "<s>", "eos": "</s>",
//                      "messages": [{"role": "user", "content": "..."}], "addGenerationPrompt": true}]}
// response: {"out": ["...", ...]} ("ERROR: ..." where the template raised)
"use strict";
const path = require("path");
const { createRequire } = require("module");

const load = createRequire(path.join(process.argv[2], "package.json"));
const { Template } = load("@huggingface/jinja");
const request = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = request.cases.map((c) => {
  try {
    return new Template(c.template).render({
      messages: c.messages, bos_token: c.bos, eos_token: c.eos,
      add_generation_prompt: c.addGenerationPrompt,
    });
  } catch (e) {
    return "ERROR: " + e.message;
  }
});
process.stdout.write(JSON.stringify({ out }));

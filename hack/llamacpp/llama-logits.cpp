// llama-logits: reference logits from libllama for given token ids (no tokenizer involved).
// Built by hack/llamacpp/build.sh.
//
//   llama-logits [options] MODEL.gguf [ID ...]        ids on the command line, or else on stdin
//     --all          also print the logits of every prompt position: "logits":[[...],...]
//     --greedy N     number of greedy ids to generate after the prompt (default 16)
//     --threads N    CPU threads (default 1: deterministic and reproducible)
//     --kv f32|f16   KV cache type (default f32, so attention is not rounded to f16)
//     --no-repack    disable CPU weight repacking (use_extra_bufts=false)
//     -v             show llama.cpp's log on stderr
//
// Ids on stdin may be separated by spaces, newlines, commas or brackets, so a JSON array works.
// Output (one JSON object on stdout):
//   {"n_vocab":V, "n_prompt":P, "last_logits":[V floats], "greedy":[N ids], "logits":[[...]]}
// The prompt is evaluated as one batch (one ubatch). Greedy ids are argmax (lowest id on ties),
// fed back one token at a time. Floats are printed with 9 significant digits (exact float32).
#include "llama.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static bool g_verbose = false;

static void log_cb(enum ggml_log_level level, const char * text, void *) {
    if (g_verbose || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

[[noreturn]] static void die(const std::string & msg) {
    fprintf(stderr, "llama-logits: %s\n", msg.c_str());
    exit(1);
}

static void parse_ids(const char * s, std::vector<llama_token> & out) {
    while (*s) {
        if ((*s >= '0' && *s <= '9') || *s == '-') {
            char * end;
            long v = strtol(s, &end, 10);
            if (end == s) die(std::string("bad token id near: ") + s);
            out.push_back((llama_token) v);
            s = end;
        } else if (strchr(" \t\r\n,[]", *s)) {
            s++;
        } else {
            die(std::string("bad token id near: ") + s);
        }
    }
}

static void print_floats(const float * v, int n) {
    putchar('[');
    for (int i = 0; i < n; i++) {
        if (i) putchar(',');
        if (std::isfinite(v[i])) printf("%.9g", v[i]); else fputs("null", stdout);
    }
    putchar(']');
}

static llama_token argmax(const float * v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) if (v[i] > v[best]) best = i; // strict: lowest id wins ties
    return best;
}

int main(int argc, char ** argv) {
    bool all = false, repack = true;
    int n_greedy = 16, n_threads = 1;
    ggml_type kv_type = GGML_TYPE_F32;
    const char * model_path = nullptr;
    std::vector<llama_token> prompt;

    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> const char * { if (i + 1 >= argc) die("missing value for " + a); return argv[++i]; };
        if (a == "--all") all = true;
        else if (a == "--greedy") n_greedy = atoi(next());
        else if (a == "--threads") n_threads = atoi(next());
        else if (a == "--kv") {
            std::string t = next();
            if (t == "f32") kv_type = GGML_TYPE_F32;
            else if (t == "f16") kv_type = GGML_TYPE_F16;
            else die("--kv must be f32 or f16");
        }
        else if (a == "--no-repack") repack = false;
        else if (a == "-v") g_verbose = true;
        else if (a == "-h" || a == "--help") {
            fprintf(stderr, "usage: llama-logits [--all] [--greedy N] [--threads N] [--kv f32|f16] [--no-repack] [-v] MODEL.gguf [ID ...]\n");
            return 2;
        }
        else if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) die("unknown option " + a);
        else if (!model_path) model_path = argv[i];
        else parse_ids(argv[i], prompt);
    }
    if (!model_path) die("no model given (usage: llama-logits [options] MODEL.gguf [ID ...])");
    if (prompt.empty()) {
        std::string in;
        char buf[4096];
        size_t r;
        while ((r = fread(buf, 1, sizeof buf, stdin)) > 0) in.append(buf, r);
        parse_ids(in.c_str(), prompt);
    }
    if (prompt.empty()) die("no token ids given");
    if (n_greedy < 0 || n_threads < 1) die("bad --greedy or --threads");

    llama_log_set(log_cb, nullptr);
    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.use_extra_bufts = repack;
    llama_model * model = llama_model_load_from_file(model_path, mp);
    if (!model) die(std::string("failed to load ") + model_path);
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    for (llama_token t : prompt) if (t < 0 || t >= n_vocab) die("token id out of range: " + std::to_string(t));

    const int n_prompt = (int) prompt.size();
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) (n_prompt + n_greedy + 1);
    cp.n_batch = cp.n_ubatch = (uint32_t) n_prompt;  // whole prompt in one ubatch
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = n_threads;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = cp.type_v = kv_type;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) die("failed to create context");

    llama_batch batch = llama_batch_init(n_prompt, 0, 1);
    for (int i = 0; i < n_prompt; i++) {
        batch.token[i] = prompt[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = all || i == n_prompt - 1;
    }
    batch.n_tokens = n_prompt;
    if (llama_decode(ctx, batch) != 0) die("llama_decode failed on the prompt");

    printf("{\"n_vocab\":%d,\"n_prompt\":%d", n_vocab, n_prompt);
    if (all) {
        fputs(",\"logits\":[", stdout);
        for (int i = 0; i < n_prompt; i++) {
            if (i) putchar(',');
            const float * l = llama_get_logits_ith(ctx, i);
            if (!l) die("no logits for position " + std::to_string(i));
            print_floats(l, n_vocab);
        }
        putchar(']');
    }
    const float * last = llama_get_logits_ith(ctx, n_prompt - 1);
    if (!last) die("no logits for the last position");
    fputs(",\"last_logits\":", stdout);
    print_floats(last, n_vocab);

    std::vector<llama_token> greedy;
    llama_token tok = argmax(last, n_vocab);
    for (int k = 0; k < n_greedy; k++) {
        greedy.push_back(tok);
        if (k + 1 == n_greedy) break;
        batch.token[0] = tok;
        batch.pos[0] = n_prompt + k;
        batch.n_seq_id[0] = 1;
        batch.seq_id[0][0] = 0;
        batch.logits[0] = 1;
        batch.n_tokens = 1;
        if (llama_decode(ctx, batch) != 0) die("llama_decode failed during greedy decoding");
        tok = argmax(llama_get_logits_ith(ctx, 0), n_vocab);
    }
    fputs(",\"greedy\":[", stdout);
    for (size_t i = 0; i < greedy.size(); i++) printf(i ? ",%d" : "%d", greedy[i]);
    fputs("]}\n", stdout);

    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}

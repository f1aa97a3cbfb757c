// ggml-ref: ggml's own (de)quantization of raw blocks, as a reference for the worker's Go/CUDA
// dequantization and quantization tests. Built by hack/llamacpp/build.sh against libggml-base.
//
//   ggml-ref types [--all]                       name, elements per block, bytes per block
//   ggml-ref dequant TYPE  < blocks.bin > f32.bin  ggml_get_type_traits(TYPE)->to_float
//   ggml-ref quantize TYPE [--row N] [--ref] < f32.bin > blocks.bin
//
// TYPE is a ggml type name, case-insensitive (Q4_K, iq4_xs, Q8_0, F16, ...). Data is raw and
// little-endian: blocks exactly as they sit in a GGUF tensor, float32 values in row-major order.
//
// quantize: by default calls ggml_quantize_chunk(type, src, dst, 0, nrows, N, imatrix=NULL).
// That is the exact call llama-quantize makes (llama_tensor_quantize_impl) for a tensor when no
// importance matrix is given, so the bytes match what users get in a GGUF from llama-quantize.
// Without an imatrix the quantize_<type>() functions fall back to quantize_row_<type>_ref for the
// legacy and k-quants, and IQ4_NL/IQ4_XS run their *_impl with NULL weights, so for the types we
// test the output equals from_float_ref (--ref uses that instead, to check exactly this). Types
// that require an imatrix (IQ2_XXS, IQ2_XS, IQ1_S, ...) are refused. ggml_quantize_chunk calls
// ggml_quantize_init(type) itself; we also call it explicitly, which the --ref path needs for the
// IQ2/IQ3 grids. Q8_K (the activation type of the k-quant dot products) has neither to_float nor
// from_float_ref in the base traits and is not handled by ggml_quantize_chunk; it is served by
// quantize_row_q8_K_ref / dequantize_row_q8_K, which libggml-base exports.
#include "ggml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// Exported by libggml-base (ggml/src/ggml-quants.h is not a public header).
void quantize_row_q8_K_ref(const float * x, void * y, int64_t k);
void dequantize_row_q8_K(const void * x, float * y, int64_t k);

static void die(const char * fmt, const char * arg) {
    fprintf(stderr, "ggml-ref: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static const char * const default_types[] = {
    "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
    "IQ4_NL", "IQ4_XS", "Q8_K",
};

static void upper(char * dst, const char * src, size_t n) {
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? src[i] - 32 : src[i];
    dst[i] = 0;
}

static int usable(enum ggml_type t) {
    const struct ggml_type_traits * tr = ggml_get_type_traits(t);
    return tr->type_name && tr->blck_size > 0 && tr->type_size > 0 && !strchr(tr->type_name, ' ') &&
           strcmp(tr->type_name, "DEPRECATED") != 0;
}

static enum ggml_type parse_type(const char * name) {
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        if (usable((enum ggml_type) t) && strcasecmp(ggml_get_type_traits((enum ggml_type) t)->type_name, name) == 0) {
            return (enum ggml_type) t;
        }
    }
    die("unknown ggml type %s", name);
    return GGML_TYPE_COUNT;
}

static void * read_all(size_t * n) {
    size_t cap = 1 << 20, len = 0;
    char * buf = malloc(cap);
    for (;;) {
        if (len == cap) buf = realloc(buf, cap *= 2);
        if (!buf) die("%s", "out of memory");
        size_t r = fread(buf + len, 1, cap - len, stdin);
        len += r;
        if (r == 0) break;
    }
    if (ferror(stdin)) die("%s", "read error on stdin");
    *n = len;
    return buf;
}

static void write_all(const void * p, size_t n) {
    if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) die("%s", "write error on stdout");
}

static void print_type(enum ggml_type t) {
    char name[32];
    upper(name, ggml_type_name(t), sizeof name);
    printf("%s %lld %zu\n", name, (long long) ggml_blck_size(t), ggml_type_size(t));
}

static int cmd_types(int argc, char ** argv) {
    if (argc > 0 && strcmp(argv[0], "--all") == 0) {
        for (int t = 0; t < GGML_TYPE_COUNT; t++) {
            if (usable((enum ggml_type) t)) print_type((enum ggml_type) t);
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof default_types / sizeof default_types[0]; i++) print_type(parse_type(default_types[i]));
    return 0;
}

static int cmd_dequant(enum ggml_type t) {
    const struct ggml_type_traits * tr = ggml_get_type_traits(t);
    size_t n;
    void * in = read_all(&n);
    if (n % tr->type_size != 0) die("input is not a whole number of %s blocks", tr->type_name);
    const int64_t nel = (int64_t) (n / tr->type_size) * tr->blck_size;
    float * out = malloc((size_t) nel * sizeof(float) + 1);
    if (t == GGML_TYPE_F32) {
        memcpy(out, in, n);
    } else if (t == GGML_TYPE_Q8_K) {
        dequantize_row_q8_K(in, out, nel);
    } else if (tr->to_float) {
        tr->to_float(in, out, nel);
    } else {
        die("ggml has no to_float for %s", tr->type_name);
    }
    write_all(out, (size_t) nel * sizeof(float));
    return 0;
}

static int cmd_quantize(enum ggml_type t, int argc, char ** argv) {
    int64_t row = 256;
    int use_ref = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--row") == 0 && i + 1 < argc) {
            row = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--ref") == 0) {
            use_ref = 1;
        } else {
            die("unknown quantize option %s", argv[i]);
        }
    }
    const struct ggml_type_traits * tr = ggml_get_type_traits(t);
    if (row <= 0 || row % tr->blck_size != 0) die("--row must be a positive multiple of the block size of %s", tr->type_name);
    if (ggml_quantize_requires_imatrix(t)) die("%s requires an importance matrix; not supported", tr->type_name);

    size_t n;
    float * in = read_all(&n);
    if (n % (sizeof(float) * (size_t) row) != 0) die("%s", "input is not a whole number of float32 rows (see --row)");
    const int64_t nrows = (int64_t) (n / sizeof(float)) / row;
    const size_t row_size = ggml_row_size(t, row);
    void * out = malloc((size_t) nrows * row_size + 1);

    ggml_quantize_init(t); // no-op for types without lookup tables; needed by IQ2/IQ3 on the --ref path
    size_t written;
    if (t == GGML_TYPE_Q8_K) {
        quantize_row_q8_K_ref(in, out, nrows * row);
        written = (size_t) nrows * row_size;
    } else if (use_ref || t == GGML_TYPE_Q8_1) {
        if (!tr->from_float_ref) die("ggml has no from_float_ref for %s", tr->type_name);
        for (int64_t r = 0; r < nrows; r++) tr->from_float_ref(in + r * row, (char *) out + r * row_size, row);
        written = (size_t) nrows * row_size;
    } else {
        written = ggml_quantize_chunk(t, in, out, 0, nrows, row, NULL);
    }
    write_all(out, written);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: ggml-ref types [--all]\n"
            "       ggml-ref dequant TYPE < blocks.bin > f32.bin\n"
            "       ggml-ref quantize TYPE [--row N (256)] [--ref] < f32.bin > blocks.bin\n");
    exit(2);
}

int main(int argc, char ** argv) {
    if (argc < 2) usage();
    if (strcmp(argv[1], "types") == 0) return cmd_types(argc - 2, argv + 2);
    if (argc < 3) usage();
    if (strcmp(argv[1], "dequant") == 0) return cmd_dequant(parse_type(argv[2]));
    if (strcmp(argv[1], "quantize") == 0) return cmd_quantize(parse_type(argv[2]), argc - 3, argv + 3);
    usage();
    return 2;
}

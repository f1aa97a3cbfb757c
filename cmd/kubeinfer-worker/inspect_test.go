package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
)

// fixtureFigures are the exact figures of the fidelity fixtures: parameters, header
// bytes, tensor bytes by type, and the GPU memory plan at the serve defaults (the
// model's context, 8 concurrent requests).
var fixtureFigures = map[string]struct {
	params, header, tensorBytes uint64
	byType                      map[string]uint64
	weights, planTotal          uint64
}{
	"gpt2.gguf":                {128768, 7630, 515072, map[string]uint64{"F32": 515072}, 515072, 706740224},
	"gpt2_f16.gguf":            {128768, 7634, 277504, map[string]uint64{"F16": 237568, "F32": 39936}, 277504, 706740224},
	"llama3_rope_scaling.gguf": {119112, 7960, 476448, map[string]uint64{"F32": 476448}, 476416, 704643072},
	"llama_gqa.gguf":           {428672, 9222, 1714688, map[string]uint64{"F32": 1714688}, 1714688, 708837376},
	"llama_gqa_bf16.gguf":      {428672, 9227, 858624, map[string]uint64{"BF16": 856064, "F32": 2560}, 858624, 708837376},
	"llama_mha.gguf":           {140096, 9222, 560384, map[string]uint64{"F32": 560384}, 560384, 704643072},
	"qwen2.gguf":               {127552, 8053, 510208, map[string]uint64{"F32": 510208}, 510720, 704643072},
	"gemma2.gguf":              {94784, 11179, 379136, map[string]uint64{"F32": 379136}, 379136, 704643072},
	"gemma3.gguf":              {243456, 14534, 973824, map[string]uint64{"F32": 973824}, 976128, 704643072},
	"gptneox.gguf":             {141056, 7699, 564224, map[string]uint64{"F32": 564224}, 564224, 706740224},
	"mistral_swa.gguf":         {139584, 13262, 558336, map[string]uint64{"F32": 558336}, 558336, 704643072},
	"phi2.gguf":                {141120, 7967, 564480, map[string]uint64{"F32": 564480}, 564480, 706740224},
	"phi3.gguf":                {127296, 9430, 509184, map[string]uint64{"F32": 509184}, 509184, 704643072},
	"qwen3.gguf":               {131520, 11789, 526080, map[string]uint64{"F32": 526080}, 526592, 706740224},
	"starcoder2.gguf":          {112256, 8137, 449024, map[string]uint64{"F32": 449024}, 449536, 706740224},
}

func inspectJSONOf(t *testing.T, args ...string) inspectJSON {
	t.Helper()
	code, out, errOut := runCLI(append([]string{"inspect", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("inspect %v: exit %d: %s", args, code, errOut)
	}
	var rep inspectJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("inspect -o json: %v\n%s", err, out)
	}
	return rep
}

func TestInspectFixturesExactBytes(t *testing.T) {
	paths, _ := filepath.Glob("../../worker/testdata/fidelity/*.gguf")
	if len(paths) != len(fixtureFigures) {
		t.Fatalf("%d fixtures, %d expected figures", len(paths), len(fixtureFigures))
	}
	for _, p := range paths {
		name := filepath.Base(p)
		want := fixtureFigures[name]
		t.Run(name, func(t *testing.T) {
			rep := inspectJSONOf(t, "--model", p)
			g := rep.GPUMemory
			if rep.Parameters != want.params || rep.HeaderBytes != want.header || rep.TensorBytes != want.tensorBytes ||
				!reflect.DeepEqual(rep.BytesByType, want.byType) || g == nil || g.WeightsBytes != want.weights || g.TotalBytes != want.planTotal {
				t.Fatalf("got params %d header %d tensors %d %v plan %+v", rep.Parameters, rep.HeaderBytes, rep.TensorBytes, rep.BytesByType, g)
			}
			// Independent checks: F32 tensors take 4 bytes a parameter; the plan is the
			// one the CUDA loader allocates by, on the fully loaded model.
			if len(want.byType) == 1 && want.byType["F32"] != 4*want.params {
				t.Errorf("F32 bytes %d != 4 × %d parameters", want.byType["F32"], want.params)
			}
			m, err := model.Load(p, "")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if plan, err := memplan.ForModel(m, memplan.Options{}); err != nil || plan.Total() != g.TotalBytes || plan.RequiredMiB() != g.RequiredMiB {
				t.Errorf("the loader's plan %v differs from inspect's %+v", plan, g)
			}
			// The text form says the same.
			_, out, _ := runCLI("inspect", p)
			if !strings.Contains(out, fmt.Sprintf("(%d bytes: ", want.tensorBytes)) || !strings.Contains(out, fmt.Sprintf("gpu memory:    %d MiB", g.RequiredMiB)) {
				t.Errorf("text output:\n%s", out)
			}
		})
	}
	// Context and concurrency size the KV cache as serve does.
	rep := inspectJSONOf(t, "--context", "64", "--concurrency", "4", "../../worker/testdata/fidelity/llama_gqa.gguf")
	if g := rep.GPUMemory; g.KVCacheTokens != 256 || g.KVCacheBytes != 2*2*256*2*16*2 { // K+V × layers × tokens × kv heads × head dim × f16 (the GPU's auto)
		t.Errorf("KV cache for 64 × 4: %+v", g)
	}
}

// headerOnlyServer serves a file with Range requests and fails any range that reaches
// past the header, remembering every range asked for.
type headerOnlyServer struct {
	data       []byte
	headerSize int64
	mu         sync.Mutex
	ranges     []string
	pastHeader []string
}

func (s *headerOnlyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rng := r.Header.Get("Range")
	s.mu.Lock()
	s.ranges = append(s.ranges, rng)
	s.mu.Unlock()
	spec, ok := strings.CutPrefix(rng, "bytes=")
	from, to, ok2 := strings.Cut(spec, "-")
	start, err1 := strconv.ParseInt(from, 10, 64)
	end, err2 := strconv.ParseInt(to, 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || end < start {
		http.Error(w, "only bytes=A-B ranges", http.StatusBadRequest)
		return
	}
	if end >= s.headerSize {
		s.mu.Lock()
		s.pastHeader = append(s.pastHeader, rng)
		s.mu.Unlock()
		http.Error(w, "this server serves the header only", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(s.data)))
	w.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
	w.WriteHeader(http.StatusPartialContent)
	_, _ = w.Write(s.data[start : end+1])
}

func TestInspectURLReadsOnlyTheHeader(t *testing.T) {
	path := "../../worker/testdata/fidelity/qwen2.gguf"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	srv := &headerOnlyServer{data: data, headerSize: int64(f.HeaderSize)}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	remote := inspectJSONOf(t, "--model", ts.URL+"/qwen2.gguf")
	local := inspectJSONOf(t, path)
	if len(srv.pastHeader) > 0 {
		t.Fatalf("asked for bytes past the %d-byte header: %v", srv.headerSize, srv.pastHeader)
	}
	remote.Source, local.Source = "", ""
	if !reflect.DeepEqual(remote, local) {
		t.Errorf("the URL's header gives other figures than the file:\nremote %+v\nlocal  %+v", remote, local)
	}
	if remote.FileBytes != uint64(len(data)) || remote.GPUMemory == nil {
		t.Errorf("file bytes %d, plan %+v", remote.FileBytes, remote.GPUMemory)
	}
	t.Logf("%d range requests: %v", len(srv.ranges), srv.ranges)

	// The text form names the source and what the header cost.
	_, out, _ := runCLI("inspect", "--model", ts.URL+"/qwen2.gguf")
	if !strings.Contains(out, "header: 8053 bytes in") {
		t.Errorf("text output:\n%s", out)
	}
	// A server without Range support is refused, not downloaded from.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(data) }))
	defer plain.Close()
	if code, _, errOut := runCLI("inspect", "--model", plain.URL+"/m.gguf"); code != 1 || !strings.Contains(errOut, "Range") {
		t.Errorf("server without Range: exit %d %s", code, errOut)
	}
}

// Quantized files made by llama-quantize: inspect names the recipe, every type
// is supported, and each tensor's size from the type table is what the file
// gives it (its offset to the next tensor, less the alignment padding).
func TestInspectQuantizedFixtures(t *testing.T) {
	paths, _ := filepath.Glob("../../worker/testdata/quant/*.gguf")
	if len(paths) == 0 {
		t.Fatal("no quantized fixtures")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			var fx struct {
				FileType string `json:"file_type"`
			}
			raw, err := os.ReadFile(strings.TrimSuffix(p, ".gguf") + ".json")
			if err != nil || json.Unmarshal(raw, &fx) != nil {
				t.Fatalf("fixture JSON: %v", err)
			}
			rep := inspectJSONOf(t, p)
			if rep.FileType != fx.FileType || len(rep.UnsupportedTypes) != 0 || rep.GPUMemory == nil {
				t.Fatalf("file type %q (want %q), unsupported %v, plan %+v (%s)", rep.FileType, fx.FileType,
					rep.UnsupportedTypes, rep.GPUMemory, rep.GPUMemoryErr)
			}
			f, err := gguf.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ts := slices.Clone(f.Tensors)
			slices.SortFunc(ts, func(a, b gguf.TensorInfo) int { return cmp.Compare(a.Offset, b.Offset) })
			for i, ti := range ts {
				end := f.Size - f.DataOffset
				if i+1 < len(ts) {
					end = ts[i+1].Offset
				}
				if pad := end - ti.Offset - ti.Size; ti.Offset+ti.Size > end || pad >= f.Alignment {
					t.Errorf("tensor %s (%s %v): %d bytes, but the file gives it %d", ti.Name, ti.Type, ti.Dims, ti.Size, end-ti.Offset)
				}
			}
			m, err := model.Load(p, "")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if plan, err := memplan.ForModel(m, memplan.Options{}); err != nil || plan.Weights != rep.GPUMemory.WeightsBytes {
				t.Errorf("inspect's weights %d, the loader's %d (%v)", rep.GPUMemory.WeightsBytes, plan.Weights, err)
			}
		})
	}
}

// unsupportedModel is a tiny llama whose attn_q is IQ2_XXS, a type the worker
// cannot compute with.
func unsupportedModel(t *testing.T) string {
	t.Helper()
	cfg := modeltest.Small("llama")
	tensors := modeltest.Tensors(cfg)
	w, err := modeltest.Writer(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tensors {
		if tt.Name == "blk.0.attn_q.weight" {
			err = w.AddTensor(tt.Name, gguf.TypeIQ2_XXS, []uint64{256, 4}, make([]byte, 4*66))
		} else {
			err = w.AddF32(tt.Name, gguf.TypeF32, tt.Dims, tt.Values)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "iq2.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A file with a type the worker does not support is described, with the refusal.
func TestInspectRefusesUnsupportedTypes(t *testing.T) {
	path := unsupportedModel(t)
	rep := inspectJSONOf(t, path)
	wantErr := "tensor blk.0.attn_q.weight has type IQ2_XXS, which this worker does not support (supported: " +
		gguf.SupportedTypeNames() + ")"
	if !reflect.DeepEqual(rep.UnsupportedTypes, []string{"IQ2_XXS"}) || rep.GPUMemory != nil || rep.GPUMemoryErr != wantErr {
		t.Errorf("unsupported %v, plan %+v, error %q", rep.UnsupportedTypes, rep.GPUMemory, rep.GPUMemoryErr)
	}
	_, out, _ := runCLI("inspect", path)
	if !strings.Contains(out, "refused:       IQ2_XXS not supported: the worker will not load this file (supported: F32, F16,") {
		t.Errorf("text output:\n%s", out)
	}
}

// inspect --gpus N plans each GPU of a model split N ways (the plan serve --gpus loads
// by), and says so; a split the shapes do not allow is refused with the reason.
func TestInspectPerGPU(t *testing.T) {
	p := "../../worker/testdata/fidelity/llama_gqa.gguf"
	one := inspectJSONOf(t, p).GPUMemory
	two := inspectJSONOf(t, "--gpus", "2", p).GPUMemory
	if one == nil || two == nil || one.GPUs != 1 || two.GPUs != 2 {
		t.Fatalf("gpu memory %+v, %+v", one, two)
	}
	// About half each: replicated norms add a little, pieces aligned to 256 bytes move it either way.
	if two.WeightsBytes <= one.WeightsBytes*45/100 || two.WeightsBytes >= one.WeightsBytes*55/100 || two.KVCacheBytes != one.KVCacheBytes/2 {
		t.Errorf("per GPU of 2: weights %d, KV %d; on one: weights %d, KV %d", two.WeightsBytes, two.KVCacheBytes, one.WeightsBytes, one.KVCacheBytes)
	}
	_, out, _ := runCLI("inspect", "--gpus", "2", p)
	if !strings.Contains(out, fmt.Sprintf("gpu memory:    2 × %d MiB", two.RequiredMiB)) {
		t.Errorf("text output:\n%s", out)
	}
	_, out, _ = runCLI("inspect", "--gpus", "4", "../../worker/testdata/quant/llama_q4_k_m.gguf")
	if !strings.Contains(out, "gpu memory:    unknown (tensor parallelism over 4 GPUs: cannot split") {
		t.Errorf("a split the shapes refuse:\n%s", out)
	}
}

//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/hack/devenv"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// What the worker logs when a chat prompt cannot use the GGUF's own template
// (worker/load): both fall back to the plain "role: content" format.
const (
	logNoTemplate       = "the model has no chat template"
	logTemplateUnparsed = "the model's chat template does not parse"
)

// archCase is one GGUF architecture served from its fidelity fixture.
type archCase struct {
	name    string // the InferenceWorker, and so the served model name
	fixture string // worker/testdata/fidelity/<fixture>.gguf
	gguf    string // the file's general.architecture, which the narration names
	family  string // what spec.model.architecture declares: llama or gpt
	// template is "" when the GGUF's own chat template renders the chat, else the
	// worker's log line for the plain fallback.
	template string
}

var archCases = []archCase{
	// Llama 3 layout: byte-level BPE with its specials and a Llama 3 template.
	{"arch-llama", "llama3_rope_scaling", "llama", "llama", ""},
	// Mistral is written as llama; this file declares a sliding window of 6 tokens,
	// which the chat prompt outgrows. Its template is Mistral's [INST] one.
	{"arch-mistral-swa", "mistral_swa", "llama", "llama", ""},
	{"arch-qwen2", "qwen2", "qwen2", "llama", ""},
	{"arch-qwen3", "qwen3", "qwen3", "llama", ""},
	{"arch-phi3", "phi3", "phi3", "llama", ""},
	// Both Gemma fixtures carry Gemma 3's template (a conditional inside parentheses,
	// which worker/chattemplate rewrites for gonja).
	{"arch-gemma2", "gemma2", "gemma2", "llama", ""},
	{"arch-gemma3", "gemma3", "gemma3", "llama", ""},
	// The GPT family's base models ship no chat template, and neither do their fixtures.
	{"arch-gpt2", "gpt2", "gpt2", "gpt", logNoTemplate},
	{"arch-gptneox", "gptneox", "gptneox", "gpt", logNoTemplate},
	{"arch-phi2", "phi2", "phi2", "gpt", logNoTemplate},
	{"arch-starcoder2", "starcoder2", "starcoder2", "gpt", logNoTemplate},
}

// TestEveryArchitecture: for each GGUF architecture the worker runs, an InferenceWorker
// declaring its family serves that architecture's fidelity fixture (tiny random weights
// in the real tensor layout, with a real tokenizer layout and, where the model has one,
// its chat template) on the CPU engine. Each becomes Ready, narrates the load naming its
// family and architecture, and answers a chat completion through its Service: random
// weights say nothing sensible, but the request runs the whole path (template,
// tokenizer, engine, sampling, detokenizer). All workers start together, so the test
// takes about as long as its slowest worker.
//
// It runs after the tests of the files before this one (go test keeps file order): in
// the first half minute after the chart installs the CRD, the garbage collector has not
// yet picked up InferenceWorkers (it rediscovers resources every 30 s), so a worker
// deleted then keeps its pods until that resync, which made this test 30 s longer when
// it ran first.
func TestEveryArchitecture(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range archCases {
		covered[c.gguf] = true
	}
	for _, a := range model.Architectures() {
		if !covered[a] {
			t.Errorf("the worker runs GGUF architecture %s, which has no case here: add its fidelity fixture", a)
		}
	}

	for _, c := range archCases {
		src := filepath.Join(env.Repo, "worker", "testdata", "fidelity", c.fixture+".gguf")
		if err := devenv.CopyFile(src, filepath.Join(env.PVCDir(ns, "models"), "fidelity", c.fixture+".gguf")); err != nil {
			t.Fatal(err)
		}
	}
	var workers []worker
	for _, c := range archCases {
		workers = append(workers, worker{name: c.name, arch: c.family, path: "fidelity/" + c.fixture + ".gguf"})
	}
	applyAll(t, workers...)

	const maxTokens = 8
	for _, c := range archCases {
		t.Run(c.gguf+"/"+c.fixture, func(t *testing.T) {
			iw := waitReady(t, c.name)
			if cond := devenv.Condition(iw, inferencev1alpha1.ConditionModelLoaded); cond == nil || cond.Status != metav1.ConditionTrue {
				t.Errorf("ModelLoaded condition %+v", cond)
			}
			pods := activePods(t, c.name)
			if len(pods) != 1 || pods[0].Spec.NodeName != localNode {
				t.Fatalf("want one pod on node %s, got %v", localNode, podNodes(pods))
			}

			title := map[string]string{"llama": "Llama", "gpt": "GPT"}[c.family]
			want := fmt.Sprintf("Loaded %s model %s on CPU (%s, ", title, c.name, c.gguf)
			waitEvent(t, c.name, "ModelLoaded naming "+c.gguf, func(ev *eventView) bool {
				return ev.Reason == inferencev1alpha1.ReasonModelLoaded && ev.Controller == inferencev1alpha1.EventReportingController &&
					strings.HasPrefix(ev.Note, want)
			})

			log := workerLog(t, pods[0])
			for _, line := range []string{logNoTemplate, logTemplateUnparsed} {
				if got := strings.Contains(log, line); got != (line == c.template) {
					t.Errorf("worker log has %q: %v, want %v", line, got, !got)
				}
			}

			base, err := env.Proxy(context.Background(), ns, c.name)
			if err != nil {
				t.Fatal(err)
			}
			id := "e2e-" + c.name
			reply, err := devenv.Chat(context.Background(), base, c.name, "Say hello in French.", maxTokens, id)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("chat: %d prompt tokens, %d output tokens, finish %s: %q", reply.PromptTokens, reply.OutputTokens, reply.FinishReason, reply.Content)
			// The fixtures' control-token logits are scaled down so greedy decoding never
			// picks EOS: each reply runs to max_tokens.
			if reply.Model != c.name || reply.FinishReason != "length" || reply.OutputTokens != maxTokens ||
				reply.Content == "" || reply.PromptTokens == 0 || reply.CorrelationID != id {
				t.Errorf("reply %+v, want model %s, finish_reason length after %d tokens, some content", reply, c.name, maxTokens)
			}
		})
	}
}

// workerLog is what the worker container of a pod on the local node has logged: the
// devcluster keeps each container's output in the pod's state directory (it serves no
// `kubectl logs`).
func workerLog(t *testing.T, p corev1.Pod) string {
	t.Helper()
	path := filepath.Join(env.StateDir, "pods", fmt.Sprintf("%s_%s_%s", p.Namespace, p.Name, p.UID), "logs", "worker.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("worker log: %v", err)
	}
	return string(data)
}

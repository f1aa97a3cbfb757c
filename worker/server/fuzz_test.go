package server

import (
	"regexp"
	"sync"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/load"
)

var (
	fuzzOnce    sync.Once
	fuzzServer  *Server
	fuzzServing serving
)

// fuzzSetup loads the test model once for the fuzz targets: decoding a
// request builds its job without the scheduler.
func fuzzSetup(f *testing.F) (*Server, serving) {
	fuzzOnce.Do(func() {
		m, err := load.Load(load.Options{Path: modelPath})
		if err != nil {
			f.Fatal(err)
		}
		fuzzServer = New(Config{ServedName: servedName, MaxConcurrent: 1, MaxQueue: 1})
		fuzzServing = serving{m: m, lim: fuzzServer.cfg.limits(m.Backend.Model().Hyper.ContextLength)}
	})
	return fuzzServer, fuzzServing
}

// goSpeak is what an error message must never show a client.
var goSpeak = regexp.MustCompile(`Go (struct|value)|json: |\bint64\b|float64|\*server\.|samplingFields|completionRequest|chatRequest`)

// FuzzDecodeRequest feeds arbitrary bodies to both endpoints' decoding,
// validation, template rendering and tokenization: none may panic, every
// refusal is a 4xx in OpenAI's shape that speaks JSON, and every accepted
// request has a prompt of valid token ids.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"model":"tiny","prompt":"Hello","max_tokens":5,"temperature":0.5,"stop":["\n"],"logprobs":2}`,
		`{"model":"tiny","prompt":[1,2,3],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"tiny","prompt":[[1,2]],"n":1,"seed":-1,"echo":false,"best_of":1,"user":"u"}`,
		`{"model":"tiny","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi <|im_end|>"}],"max_completion_tokens":3}`,
		`{"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"logprobs":true,"top_logprobs":2}`,
		`{"messages":[{"role":"assistant","content":null,"refusal":null}],"tools":null,"tool_choice":"none","response_format":{"type":"text"}}`,
		`{"model":"tiny","messages":[{"role":"user","content":"x","name":"n"}],"tools":[{"type":"function"}]}`,
		`{"model":"tiny","prompt":"x","max_tokens":"5","Max_Tokens":1,"top_k":3}`,
		`[1,2]`, `null`, `"x"`, `{"model":`, `{}`, `{"stop":5,"prompt":{}}`, "{\"prompt\":\"\xff\xfe\"}",
	} {
		f.Add([]byte(seed))
	}
	s, sv := fuzzSetup(f)
	vocab := sv.m.Tokenizer.VocabSize()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, build := range []func([]byte, serving) (job, *apiError){s.completionJob, s.chatJob} {
			j, e := build(body, sv)
			if e != nil {
				if e.Status < 400 || e.Status > 499 || e.Type == "" || e.Message == "" || goSpeak.MatchString(e.Message) {
					t.Fatalf("body %q: refused with %d %q %q", body, e.Status, e.Type, e.Message)
				}
				continue
			}
			if len(j.req.Prompt) == 0 {
				t.Fatalf("body %q: accepted with an empty prompt", body)
			}
			for _, id := range j.req.Prompt {
				if id < 0 || id >= vocab {
					t.Fatalf("body %q: prompt token %d outside the vocabulary", body, id)
				}
			}
		}
	})
}

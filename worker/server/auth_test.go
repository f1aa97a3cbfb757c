package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// withKey is a client of h's server that sends key.
func (h *harness) withKey(key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(h.http.URL+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func chatOnce(c openai.Client) error {
	_, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:     servedName,
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		MaxTokens: openai.Int(2),
	})
	return err
}

// wantUnauthorized checks that err is OpenAI's 401 for a missing or wrong key.
func wantUnauthorized(t *testing.T, err error) {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want an OpenAI API error, got %v", err)
	}
	if apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" || apiErr.Type != "invalid_request_error" {
		t.Errorf("got %d code %q type %q, want 401 invalid_api_key invalid_request_error", apiErr.StatusCode, apiErr.Code, apiErr.Type)
	}
}

// TestAPIKeyRequired: with API keys, the OpenAI SDK's requests need one of them; without
// it, or with another, they get OpenAI's 401 error, and the probes and metrics stay open.
func TestAPIKeyRequired(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 1, APIKeys: NewAPIKeys("sk-one", "sk-two")})

	for _, key := range []string{"sk-one", "sk-two"} {
		if err := chatOnce(h.withKey(key)); err != nil {
			t.Errorf("key %s: %v", key, err)
		}
		c := h.withKey(key)
		if _, err := c.Models.List(context.Background()); err != nil {
			t.Errorf("key %s: models: %v", key, err)
		}
	}
	for _, key := range []string{"sk-three", "sk-on", "sk-one-more", ""} {
		err := chatOnce(h.withKey(key))
		wantUnauthorized(t, err)
		c := h.withKey(key)
		_, err = c.Models.List(context.Background())
		wantUnauthorized(t, err)
	}

	// The wire form: OpenAI's error object, a WWW-Authenticate challenge, and the same
	// for a request with no Authorization header at all or another scheme.
	for name, header := range map[string]string{"no header": "", "basic auth": "Basic c2stb25lOg==", "bearer, wrong key": "Bearer nope"} {
		req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/v1/chat/completions", strings.NewReader(`{}`))
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got struct {
			Error struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    *string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: body %q: %v", name, body, err)
		}
		if resp.StatusCode != 401 || got.Error.Code == nil || *got.Error.Code != "invalid_api_key" || got.Error.Message == "" ||
			resp.Header.Get("WWW-Authenticate") == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v %s", name, resp.StatusCode, resp.Header, body)
		}
		t.Logf("%s: %d %s", name, resp.StatusCode, strings.TrimSpace(string(body)))
	}

	// Probes and metrics carry no key.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(h.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a key: %d, want 200", path, resp.StatusCode)
		}
	}
}

// TestAPIKeysRotateWithoutRestart: the key file changes as Kubernetes changes a mounted
// Secret (new files, then an atomic rename of the directory link): the old key stops
// working and the new one works, on the same running server.
func TestAPIKeysRotateWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	// A Secret volume: <dir>/keys -> ..data/keys, ..data -> ..<timestamp>.
	writeVersion := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "keys"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		_ = os.Remove(tmp)
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("..v1", "sk-old\n")
	if err := os.Symlink(filepath.Join("..data", "keys"), filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadAPIKeys(filepath.Join(dir, "keys"), testr.New(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go keys.Run(ctx, 10*time.Millisecond)
	h := start(t, Config{MaxConcurrent: 1, APIKeys: keys})
	if err := chatOnce(h.withKey("sk-old")); err != nil {
		t.Fatalf("old key before the rotation: %v", err)
	}

	// A rotation: both keys for a while, then only the new one.
	writeVersion("..v2", "sk-old\nsk-new\n")
	eventually(t, "the new key to work", func() bool { return chatOnce(h.withKey("sk-new")) == nil })
	if err := chatOnce(h.withKey("sk-old")); err != nil {
		t.Errorf("old key during the rotation: %v", err)
	}
	writeVersion("..v3", "sk-new\n")
	eventually(t, "the old key to stop working", func() bool { return chatOnce(h.withKey("sk-old")) != nil })
	wantUnauthorized(t, chatOnce(h.withKey("sk-old")))
	if err := chatOnce(h.withKey("sk-new")); err != nil {
		t.Errorf("new key after the rotation: %v", err)
	}

	// A file that disappears keeps the last keys rather than opening or closing the door.
	if err := os.Remove(filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := chatOnce(h.withKey("sk-new")); err != nil {
		t.Errorf("key after the file vanished: %v", err)
	}
}

func TestLoadAPIKeysMissingFile(t *testing.T) {
	_, err := LoadAPIKeys(filepath.Join(t.TempDir(), "absent"), testr.New(t))
	if err == nil || !strings.Contains(err.Error(), "API key file") {
		t.Fatalf("got %v, want an error naming the API key file", err)
	}
}

// eventually polls ok for up to 5 s.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

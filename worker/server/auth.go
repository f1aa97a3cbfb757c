package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// APIKeys is the set of API keys a worker accepts, read from a file with one key per
// line (the operator mounts spec.serving.apiKeySecretRef there). Run re-reads the file
// when it changes, so a rotated Secret takes effect without a restart: Kubernetes
// replaces a mounted Secret's files in place.
type APIKeys struct {
	path string
	log  logr.Logger
	// keys holds the SHA-256 of each key: comparing digests of equal length in constant
	// time tells an attacker neither a key's bytes nor its length.
	keys    atomic.Pointer[[][sha256.Size]byte]
	content atomic.Pointer[[]byte]
}

// LoadAPIKeys reads the key file once. A file that cannot be read is an error (the
// worker would otherwise serve without the authentication its operator asked for); a
// file without keys is accepted and refuses every request.
func LoadAPIKeys(path string, log logr.Logger) (*APIKeys, error) {
	k := &APIKeys{path: path, log: log}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("API key file: %w", err)
	}
	k.set(data)
	return k, nil
}

// NewAPIKeys accepts exactly these keys (for tests and embedding); it has no file.
func NewAPIKeys(keys ...string) *APIKeys {
	k := &APIKeys{log: logr.Discard()}
	k.set([]byte(strings.Join(keys, "\n")))
	return k
}

func (k *APIKeys) set(data []byte) {
	var sums [][sha256.Size]byte
	for _, line := range strings.Split(string(data), "\n") {
		if key := strings.TrimSpace(line); key != "" {
			sums = append(sums, sha256.Sum256([]byte(key)))
		}
	}
	k.keys.Store(&sums)
	k.content.Store(&data)
	if len(sums) == 0 {
		k.log.Info("the API key file holds no key: every API request is refused until one is added", "path", k.path)
	} else {
		k.log.Info("API keys loaded", "path", k.path, "keys", len(sums))
	}
}

// Run re-reads the file every interval until ctx ends and takes its keys when its content
// changed. A read that fails keeps the keys it had (and says so): a Secret being updated
// is replaced atomically, so a failure means something else, which a person should see.
func (k *APIKeys) Run(ctx context.Context, interval time.Duration) {
	if k.path == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := os.ReadFile(k.path)
		if err != nil {
			if !failing {
				k.log.Error(err, "cannot re-read the API key file; keeping the keys loaded before", "path", k.path)
			}
			failing = true
			continue
		}
		failing = false
		if !bytes.Equal(data, *k.content.Load()) {
			k.set(data)
		}
	}
}

// valid says whether key is one of the keys, in time that does not depend on which
// key matched or how much of one did.
func (k *APIKeys) valid(key string) bool {
	sum := sha256.Sum256([]byte(key))
	match := 0
	for _, s := range *k.keys.Load() {
		match |= subtle.ConstantTimeCompare(sum[:], s[:])
	}
	return match == 1
}

// openPaths answer without a key: the kubelet's probes and Prometheus carry none.
var openPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// requireAPIKey lets a request through to next when it carries `Authorization: Bearer
// <key>` with a valid key, or asks for a probe or metrics; others get OpenAI's 401. With
// keys nil every request goes through.
func requireAPIKey(keys *APIKeys, next http.Handler) http.Handler {
	if keys == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, key, _ := strings.Cut(auth, " ")
		var msg string
		switch {
		case auth == "":
			msg = "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY)."
		case !strings.EqualFold(scheme, "Bearer"):
			msg = "The Authorization header must use Bearer auth (Authorization: Bearer YOUR_KEY)."
		case !keys.valid(strings.TrimSpace(key)):
			msg = "Incorrect API key provided."
		default:
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="kubeinfer"`)
		code := "invalid_api_key"
		writeError(w, &apiError{Status: http.StatusUnauthorized, Type: "invalid_request_error", Code: &code, Message: msg})
	})
}

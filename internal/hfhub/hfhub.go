// Package hfhub resolves a model URL of the form hf://OWNER/REPO/PATH[@REVISION] to the
// Hugging Face hub's download address, https://huggingface.co/OWNER/REPO/resolve/REVISION/PATH,
// the same way the hub's own clients do. The download (worker/fetch) and the header read
// (worker/modelsize) both ask it, so the two always fetch the same file.
package hfhub

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Scheme prefixes a hub file.
const Scheme = "hf://"

// DefaultEndpoint is the hub; the HF_ENDPOINT environment variable (the hub clients'
// own) replaces it, e.g. with a mirror.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the branch a reference without @REVISION means.
const DefaultRevision = "main"

// Endpoint is $HF_ENDPOINT, else DefaultEndpoint.
func Endpoint() string {
	if e := os.Getenv("HF_ENDPOINT"); e != "" {
		return strings.TrimRight(e, "/")
	}
	return DefaultEndpoint
}

// Ref is a parsed hf:// reference.
type Ref struct {
	Owner, Repo, Path, Revision string
}

// Parse reads hf://OWNER/REPO/PATH[@REVISION]; the revision may hold slashes
// (refs/pr/1), the path may not hold '@'.
func Parse(s string) (Ref, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return Ref{}, fmt.Errorf("%q is not an hf:// reference", s)
	}
	ref := Ref{Revision: DefaultRevision}
	if i := strings.Index(rest, "@"); i >= 0 {
		ref.Revision, rest = rest[i+1:], rest[:i]
		if ref.Revision == "" || strings.Contains(ref.Revision, "@") {
			return Ref{}, fmt.Errorf("%q: the revision after '@' must be one branch, tag or commit", s)
		}
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" || strings.HasSuffix(parts[2], "/") {
		return Ref{}, fmt.Errorf("%q: want hf://OWNER/REPO/PATH[@REVISION], e.g. hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf", s)
	}
	ref.Owner, ref.Repo, ref.Path = parts[0], parts[1], parts[2]
	return ref, nil
}

// URL is the reference's download address on the hub at endpoint.
func (r Ref) URL(endpoint string) string {
	var path []string
	for _, p := range strings.Split(r.Path, "/") {
		path = append(path, url.PathEscape(p))
	}
	// The hub takes a revision with slashes as one escaped path segment.
	return fmt.Sprintf("%s/%s/%s/resolve/%s/%s", strings.TrimRight(endpoint, "/"),
		url.PathEscape(r.Owner), url.PathEscape(r.Repo), url.PathEscape(r.Revision), strings.Join(path, "/"))
}

// Resolve returns an http(s) URL unchanged and an hf:// reference as its download
// address on Endpoint().
func Resolve(s string) (string, error) {
	if !strings.HasPrefix(s, Scheme) {
		return s, nil
	}
	ref, err := Parse(s)
	if err != nil {
		return "", err
	}
	return ref.URL(Endpoint()), nil
}

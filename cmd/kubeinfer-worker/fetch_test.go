package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/fetch/fetchtest"
)

// secretVolume lays files out as the kubelet mounts a Secret: each key a link into ..data.
func secretVolume(t *testing.T, data map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "..2026_01_01"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..2026_01_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for k, v := range data {
		if err := os.WriteFile(filepath.Join(dir, "..2026_01_01", k), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", k), filepath.Join(dir, k)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFetchGatedHFModelThroughCache: the init container's command line as the operator
// writes it for a gated hf:// model with a node cache: the token comes from the mounted
// Secret, the hub resolves and redirects, and the file lands in the cache and the pod's
// volume.
func TestFetchGatedHFModelThroughCache(t *testing.T) {
	data := []byte(strings.Repeat("gguf ", 20000))
	hub := fetchtest.StartHub(t, data, "hf_cli")
	t.Setenv("HF_ENDPOINT", hub.Hub.URL)
	headers := secretVolume(t, map[string]string{"Authorization": "Bearer hf_cli\n"})
	dest, cache := t.TempDir(), t.TempDir()
	code, out, errOut := runCLI("fetch", "--url", hub.Ref(), "--sha256", strings.Trim(hub.ETag(), `"`), "--dest", dest,
		"--headers-dir", headers, "--cache-dir", cache, "--cache-size-limit", "1000000000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got, _ := os.ReadFile(strings.TrimSpace(out)); string(got) != string(data) {
		t.Errorf("%s does not hold the model", out)
	}
	if strings.Contains(errOut, "hf_cli") {
		t.Errorf("the token shows in the log: %s", errOut)
	}
	if st := hub.Stats(); st.Unauthorized != 0 || st.CDNSawAuthorization || st.FullTransfers != 1 {
		t.Errorf("hub saw %+v", st)
	}
}

func TestFetchHeadersDirRefusesABadName(t *testing.T) {
	headers := secretVolume(t, map[string]string{"not a header": "x"})
	code, _, errOut := runCLI("fetch", "--url", "http://127.0.0.1:1/m.gguf", "--sha256", strings.Repeat("ab", 32),
		"--dest", t.TempDir(), "--headers-dir", headers)
	if code == 0 || !strings.Contains(errOut, "the Secret's keys must be header names") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

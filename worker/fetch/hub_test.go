package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/fetch/fetchtest"
)

const hubToken = "hf_test_token"

func bearer(token string) http.Header {
	return http.Header{"Authorization": []string{"Bearer " + token}}
}

// TestFetchGatedModelFromHub: an hf:// reference of a gated model, fetched with the token
// header, from a server that behaves like the hub: the token goes to the hub only (its CDN
// refuses a request carrying it), the redirect is followed, the connection that drops a
// third of the way is resumed with Range and If-Range on the CDN's ETag, no byte is sent
// twice, and the file is verified.
func TestFetchGatedModelFromHub(t *testing.T) {
	hub := fetchtest.StartHub(t, payload, hubToken)
	hub.DropAfter = len(payload) / 3
	t.Setenv("HF_ENDPOINT", hub.Hub.URL)
	dir := t.TempDir()
	o := opts(hub.Ref(), dir, digest(payload))
	o.Headers = bearer(hubToken)
	path, err := Fetch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(payload) {
		t.Fatal("wrong bytes")
	}
	st := hub.Stats()
	t.Logf("hub saw %+v", st)
	if st.CDNSawAuthorization {
		t.Errorf("the token was sent to the CDN the hub redirected to")
	}
	if st.Unauthorized != 0 || st.HubRequests != 2 {
		t.Errorf("hub requests %d (%d unauthorized), want 2 authorized: one per attempt", st.HubRequests, st.Unauthorized)
	}
	if st.FullTransfers != 1 || st.RangeTransfers != 1 || st.SentBytes != len(payload) {
		t.Errorf("CDN: %d full and %d ranged transfers, %d bytes sent; want 1, 1 and %d", st.FullTransfers, st.RangeTransfers, st.SentBytes, len(payload))
	}
	if want := fmt.Sprintf("bytes=%d-", len(payload)/3); len(st.Ranges) != 2 || st.Ranges[1] != want || st.IfRanges[1] != hub.ETag() {
		t.Errorf("Range %q If-Range %q, want the resume at %s if still %s", st.Ranges, st.IfRanges, want, hub.ETag())
	}
	if _, err := os.Stat(filepath.Join(dir, partialName+etagSuffix)); !os.IsNotExist(err) {
		t.Errorf("the ETag file stays after the download: %v", err)
	}
}

// TestFetchGatedModelWithoutToken: the hub's 401 is not retried, and the error says where
// the token goes.
func TestFetchGatedModelWithoutToken(t *testing.T) {
	hub := fetchtest.StartHub(t, payload, hubToken)
	t.Setenv("HF_ENDPOINT", hub.Hub.URL)
	for name, headers := range map[string]http.Header{
		"no token":    nil,
		"wrong token": bearer("hf_wrong"),
	} {
		t.Run(name, func(t *testing.T) {
			before := hub.Stats().HubRequests
			o := opts(hub.Ref(), t.TempDir(), digest(payload))
			o.Headers = headers
			_, err := Fetch(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "headersSecretRef") {
				t.Fatalf("err = %v, want a 401 that names headersSecretRef", err)
			}
			if n := hub.Stats().HubRequests - before; n != 1 {
				t.Errorf("%d requests, want 1: a refused token is not retried", n)
			}
			t.Log(err)
		})
	}
}

// TestFetchChangedFileStartsOver: a partial download whose ETag is no longer the file's
// (the revision moved) is not completed with the new file's bytes: If-Range makes the CDN
// send the whole new file, and that is what is kept and verified.
func TestFetchChangedFileStartsOver(t *testing.T) {
	old := []byte(strings.Repeat("old model bytes ", 3000))
	hub := fetchtest.StartHub(t, payload, "")
	t.Setenv("HF_ENDPOINT", hub.Hub.URL)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, partialName), old[:len(old)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, partialName+etagSuffix), []byte(`"old-etag"`), 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := Fetch(context.Background(), opts(hub.Ref(), dir, digest(payload)))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(payload) {
		t.Fatal("wrong bytes")
	}
	if st := hub.Stats(); st.IfRanges[0] != `"old-etag"` || st.FullTransfers != 1 || st.RangeTransfers != 0 {
		t.Errorf("hub saw %+v, want one If-Range with the old ETag answered by the whole file", st)
	}
}

// TestHeadersStayOnTheirHost: secret headers follow a redirect on the same host and are
// dropped on a redirect to another host (Go itself keeps Authorization for a subdomain,
// and any other header everywhere).
func TestHeadersStayOnTheirHost(t *testing.T) {
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, "other:"+r.Header.Get("X-Token")+":"+r.Header.Get("Authorization"))
		w.Write(payload)
	}))
	defer other.Close()
	var home *httptest.Server
	home = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path+":"+r.Header.Get("X-Token")+":"+r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, home.URL+"/moved", http.StatusFound)
		default:
			http.Redirect(w, r, other.URL+"/file", http.StatusTemporaryRedirect)
		}
	}))
	defer home.Close()
	o := opts(home.URL+"/start", t.TempDir(), digest(payload))
	o.Headers = http.Header{"X-Token": []string{"t"}, "Authorization": []string{"Bearer b"}}
	if _, err := Fetch(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	want := []string{"/start:t:Bearer b", "/moved:t:Bearer b", "other::"}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("headers seen %q, want %q", seen, want)
	}
}

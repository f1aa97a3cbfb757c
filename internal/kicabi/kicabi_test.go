package kicabi

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed kic_api.h is what the header generates: change the header, run
// `make generate`, commit both.
func TestGeneratedFileIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	header, err := os.ReadFile(filepath.Join(root, HeaderPath))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(string(header))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, GeneratedPath))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run make generate and commit it", GeneratedPath)
	}
}

func TestParse(t *testing.T) {
	funcs, err := Parse(`
/* a comment with KIC_API int kic_fake(void); inside */
KIC_API int32_t kic_abi_version(void);
KIC_API const char *kic_version(void);
KIC_API kic_status kic_upload(kic_model *m, int32_t slot,
                              const void *host, uint64_t bytes); // trailing
KIC_API void kic_model_destroy(kic_model *m);
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range funcs {
		var ps []string
		for _, p := range f.Params {
			ps = append(ps, p.Type+"|"+p.Name)
		}
		got = append(got, f.Return+" "+f.Name+"("+strings.Join(ps, ",")+")")
	}
	want := []string{"int32_t kic_abi_version()", "const char * kic_version()",
		"kic_status kic_upload(kic_model *|m,int32_t|slot,const void *|host,uint64_t|bytes)",
		"void kic_model_destroy(kic_model *|m)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("parsed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Parse("KIC_API int kic_bad(int);"); err == nil {
		t.Error("a parameter without a name was accepted")
	}
}

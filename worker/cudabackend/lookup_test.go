package cudabackend

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCandidatesOrder(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "kubeinfer-worker")
	beside := filepath.Join(dir, LibName)
	for _, tc := range []struct {
		name          string
		explicit, env string
		exe           string
		besideExists  bool
		want          []string
	}{
		{"flag wins over everything", "/opt/a.so", "/opt/b.so", exe, true, []string{"/opt/a.so"}},
		{"environment next", "", "/opt/b.so", exe, true, []string{"/opt/b.so"}},
		{"next to the executable, then the loader", "", "", exe, true, []string{beside, LibName}},
		{"loader only when none beside", "", "", exe, false, []string{LibName}},
		{"unknown executable", "", "", "", false, []string{LibName}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(beside)
			if tc.besideExists {
				if err := os.WriteFile(beside, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := candidates(tc.explicit, tc.env, tc.exe); !slices.Equal(got, tc.want) {
				t.Errorf("candidates = %v, want %v", got, tc.want)
			}
		})
	}
}

package main

import (
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// The health script runs in gopher-lua, the Lua VM Argo CD embeds, over every case of
// config/argocd/health_test.yaml (Argo CD's own layout for built-in health checks). The
// inputs in config/argocd/testdata are recorded from what the operator really writes, by
// the envtest suite in controllers/ (argocd_testdata_test.go).

const repoRoot = "../.."

type healthTests struct {
	Tests []struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

func TestHealthScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repoRoot, scriptPath))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, "config/argocd/health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases healthTests
	if err := yaml.UnmarshalStrict(raw, &cases); err != nil {
		t.Fatalf("health_test.yaml: %v", err)
	}
	inputs, _ := filepath.Glob(filepath.Join(repoRoot, "config/argocd/testdata/*.yaml"))
	if len(cases.Tests) != len(inputs) || len(inputs) < 10 {
		t.Errorf("%d cases for %d recorded inputs: every recorded input needs a case", len(cases.Tests), len(inputs))
	}
	seen := map[string]bool{}
	for _, c := range cases.Tests {
		t.Run(c.InputPath, func(t *testing.T) {
			seen[c.InputPath] = true
			data, err := os.ReadFile(filepath.Join(repoRoot, "config/argocd", c.InputPath))
			if err != nil {
				t.Fatal(err)
			}
			obj := map[string]any{}
			if err := yaml.Unmarshal(data, &obj); err != nil {
				t.Fatal(err)
			}
			status, message, err := assessHealth(string(script), obj)
			if err != nil {
				t.Fatal(err)
			}
			if status != c.HealthStatus.Status || message != c.HealthStatus.Message {
				t.Errorf("health = %s %q\n      want %s %q", status, message, c.HealthStatus.Status, c.HealthStatus.Message)
			}
		})
	}
	for _, in := range inputs {
		if rel, _ := filepath.Rel(filepath.Join(repoRoot, "config/argocd"), in); !seen[rel] {
			t.Errorf("recorded input %s has no case in health_test.yaml", rel)
		}
	}
}

// assessHealth runs the script the way Argo CD does: the resource as the global obj,
// the returned table's status and message as the result.
func assessHealth(script string, obj map[string]any) (status, message string, err error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return "", "", err
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", errNotTable
	}
	return lua.LVAsString(ret.RawGetString("status")), lua.LVAsString(ret.RawGetString("message")), nil
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errNotTable = constErr("health script did not return a table")

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	default:
		return lua.LNil
	}
}

// TestSnippetIsGenerated: the argocd-cm snippet holds exactly health.lua.
func TestSnippetIsGenerated(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repoRoot, scriptPath))
	if err != nil {
		t.Fatal(err)
	}
	snippet, err := os.ReadFile(filepath.Join(repoRoot, snippetPath))
	if err != nil {
		t.Fatal(err)
	}
	if string(snippet) != renderSnippet(string(script)) {
		t.Fatalf("%s is stale: run go run ./hack/argocd-health", snippetPath)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(snippet, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data[healthKey] != string(script) {
		t.Errorf("the YAML value of %s is not health.lua byte for byte", healthKey)
	}
}

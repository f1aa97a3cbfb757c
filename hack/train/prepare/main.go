// Command prepare packs the training corpus for hack/train/train.py: the Go
// source files of the Go toolchain that runs it ($(go env GOROOT)/src), which
// every machine with Go has. It writes, deterministically for a given Go
// version:
//
//	DIR/train.jsonl.gz    one {"path": ..., "text": ...} per file, by path
//	DIR/heldout.jsonl.gz  the same for the held-out packages
//	DIR/manifest.json     the Go version, the rules, counts, sizes and digests
//
// Files: *.go under src/, without _test.go files, without testdata/ and
// vendor/ trees, without generated files ("// Code generated ... DO NOT
// EDIT.") and without files over --max-file-bytes. A package (its directory)
// is held out when the FNV-1a hash of its path modulo --heldout-mod is 0, so
// the split does not depend on which other packages exist.
//
//	go run ./hack/train/prepare [--out .train-data]
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"unicode/utf8"
)

// generated is the convention of https://go.dev/s/generatedcode.
var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

type doc struct {
	Path string `json:"path"` // relative to GOROOT/src, slash-separated
	Text string `json:"text"`
}

type split struct {
	File   string `json:"file"`
	Files  int    `json:"files"`
	Pkgs   int    `json:"packages"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

type manifest struct {
	GoVersion    string         `json:"go_version"`
	GOROOT       string         `json:"goroot"`
	Rules        string         `json:"rules"`
	MaxFileBytes int            `json:"max_file_bytes"`
	HeldoutMod   uint32         `json:"heldout_mod"`
	Skipped      map[string]int `json:"skipped"`
	Train        split          `json:"train"`
	Heldout      split          `json:"heldout"`
	HeldoutPkgs  []string       `json:"heldout_packages"`
}

func main() {
	out := flag.String("out", ".train-data", "output directory")
	goroot := flag.String("goroot", "", "Go root whose src/ is read (default: go env GOROOT)")
	maxBytes := flag.Int("max-file-bytes", 200_000, "skip files larger than this")
	mod := flag.Uint("heldout-mod", 20, "hold out the packages whose path hash is 0 modulo this")
	flag.Parse()
	if err := run(*out, *goroot, *maxBytes, uint32(*mod)); err != nil {
		fmt.Fprintln(os.Stderr, "prepare:", err)
		os.Exit(1)
	}
}

func goEnv(key string) (string, error) {
	b, err := exec.Command("go", "env", key).Output()
	return strings.TrimSpace(string(b)), err
}

func run(out, goroot string, maxBytes int, mod uint32) error {
	if mod == 0 {
		return errors.New("--heldout-mod must be positive")
	}
	if goroot == "" {
		var err error
		if goroot, err = goEnv("GOROOT"); err != nil || goroot == "" {
			return fmt.Errorf("cannot find the Go source: pass --goroot (go env GOROOT: %v)", err)
		}
	}
	version := runtime.Version()
	if b, err := os.ReadFile(filepath.Join(goroot, "VERSION")); err == nil {
		version, _, _ = strings.Cut(string(b), "\n")
	}
	src := filepath.Join(goroot, "src")
	m := manifest{
		GoVersion: version, GOROOT: goroot, MaxFileBytes: maxBytes, HeldoutMod: mod,
		Skipped: map[string]int{},
		Rules: "*.go under GOROOT/src; no _test.go, testdata/ or vendor/, no generated files, " +
			"no file over max_file_bytes or with invalid UTF-8; package held out when FNV-1a32(dir) % heldout_mod == 0",
	}
	var train, heldout []doc
	trainPkgs, heldPkgs := map[string]bool{}, map[string]bool{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != src && (n == "testdata" || n == "vendor" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				m.Skipped["dir "+n]++
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || !d.Type().IsRegular() {
			return nil
		}
		if strings.HasSuffix(p, "_test.go") {
			m.Skipped["_test.go"]++
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case len(data) > maxBytes:
			m.Skipped["too large"]++
			return nil
		case !utf8.Valid(data):
			m.Skipped["invalid UTF-8"]++
			return nil
		case generated.Match(data):
			m.Skipped["generated"]++
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		pkg := path.Dir(rel)
		h := fnv.New32a()
		h.Write([]byte(pkg))
		if h.Sum32()%mod == 0 {
			heldout = append(heldout, doc{rel, string(data)})
			heldPkgs[pkg] = true
		} else {
			train = append(train, doc{rel, string(data)})
			trainPkgs[pkg] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(train) == 0 || len(heldout) == 0 {
		return fmt.Errorf("%s: %d training and %d held-out files; is this a Go root?", src, len(train), len(heldout))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if m.Train, err = write(filepath.Join(out, "train.jsonl.gz"), train, len(trainPkgs)); err != nil {
		return err
	}
	if m.Heldout, err = write(filepath.Join(out, "heldout.jsonl.gz"), heldout, len(heldPkgs)); err != nil {
		return err
	}
	for p := range heldPkgs {
		m.HeldoutPkgs = append(m.HeldoutPkgs, p)
	}
	sort.Strings(m.HeldoutPkgs)
	mj, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "manifest.json"), append(mj, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s from %s: train %d files (%d packages, %.1f MB), held out %d files (%d packages, %.1f MB); skipped %v -> %s\n",
		version, src, m.Train.Files, m.Train.Pkgs, float64(m.Train.Bytes)/1e6,
		m.Heldout.Files, m.Heldout.Pkgs, float64(m.Heldout.Bytes)/1e6, m.Skipped, out)
	return nil
}

// write stores docs (sorted by path) as gzip-compressed JSON lines; the gzip
// header carries no name or time, so equal input gives equal bytes.
func write(file string, docs []doc, pkgs int) (split, error) {
	sort.Slice(docs, func(i, j int) bool { return docs[i].Path < docs[j].Path })
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	s := split{File: filepath.Base(file), Files: len(docs), Pkgs: pkgs}
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return s, err
		}
		s.Bytes += len(d.Text)
	}
	if err := zw.Close(); err != nil {
		return s, err
	}
	sum := sha256.Sum256(buf.Bytes())
	s.SHA256 = hex.EncodeToString(sum[:])
	return s, os.WriteFile(file, buf.Bytes(), 0o644)
}

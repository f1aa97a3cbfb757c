package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The cache shared by the pods of a node (a hostPath directory) or of a cluster (a
// ReadWriteMany claim):
//
//	<cache>/sha256/<hex>            a verified file, named by its digest
//	<cache>/sha256/.<hex>.partial   a download under way or interrupted (resumable by any pod)
//	<cache>/sha256/<hex>.lock       flock(2)ed by the pod that downloads or links <hex>
//
// A pod takes the digest's lock, downloads the file unless it is there, links it into its
// own volume and lets go: concurrent pods wait on the lock and then find the file. A file
// is named by its digest only once verified, so the name is the proof. Its mtime is when a
// pod last used it; eviction removes the least recently used files that no pod links.

const cacheSubdir = "sha256"

// fetchCached makes final a link to (or copy of) the cached file of digest want,
// downloading it into the cache first unless it is there.
func fetchCached(ctx context.Context, o Options, want, final string) (string, error) {
	dir := filepath.Join(o.CacheDir, cacheSubdir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", cacheDirError(o.CacheDir, err)
	}
	cached := filepath.Join(dir, want)
	unlock, err := lockDigest(ctx, o, dir, want)
	if err != nil {
		return "", err
	}
	defer unlock()

	if fi, err := os.Stat(cached); err == nil {
		if same(final, fi) {
			o.Log.Info("model already present from the cache", "path", final)
			return final, nil
		}
		o.Log.Info("model found in the cache: no download", "cache", cached, "bytes", fi.Size())
	} else {
		o.Log.Info("model not in the cache: downloading it into the cache", "cache", cached)
		if err := get(ctx, o, want, filepath.Join(dir, "."+want+".partial"), cached); err != nil {
			return "", err
		}
	}
	now := time.Now()
	_ = os.Chtimes(cached, now, now) // used now: the last to be evicted
	if err := linkOrCopy(cached, final); err != nil {
		return "", fmt.Errorf("put the cached model into %s: %w", filepath.Dir(final), err)
	}
	if o.CacheSizeLimit > 0 {
		evict(o, dir, want)
	}
	return final, nil
}

func cacheDirError(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return permanentError{fmt.Errorf("model cache %s is not writable by uid %d: create the node directory (the operator's "+
			"--node-cache-dir) owned by that user on each node, e.g. install -d -o %d -g %d DIR, or use a cache of type Claim: %w",
			dir, os.Getuid(), os.Getuid(), os.Getgid(), err)}
	}
	return err
}

// lockDigest takes the digest's lock, waiting (and saying so) while another pod holds it.
func lockDigest(ctx context.Context, o Options, dir, digest string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, digest+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, cacheDirError(o.CacheDir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return func() { f.Close() }, nil
	}
	o.Log.Info("another pod downloads this model into the cache: waiting for it", "cache", dir, "sha256", digest)
	start := time.Now()
	// flock has no timeout: it waits in a goroutine, and closing the file on cancellation
	// lets go of a lock it may get after all.
	got := make(chan error, 1)
	go func() { got <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, err
		}
		o.Log.Info("the other pod is done", "waited", time.Since(start).Round(time.Millisecond).String())
		return func() { f.Close() }, nil
	case <-ctx.Done():
		go func() { <-got; f.Close() }()
		return nil, ctx.Err()
	}
}

// same says whether path is the file fi describes (a link made before).
func same(path string, fi os.FileInfo) bool {
	got, err := os.Stat(path)
	return err == nil && os.SameFile(got, fi)
}

// linkOrCopy makes dst the file src: a hard link where both are on one filesystem (no
// space, and the link count tells eviction that a pod holds it), else a copy.
func linkOrCopy(src, dst string) error {
	_ = os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".copy"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// evict removes the least recently used cached files (interrupted downloads included)
// until the cache holds at most o.CacheSizeLimit bytes. It keeps keep, files a pod links
// (link count above one), and files whose lock another pod holds.
func evict(o Options, dir, keep string) {
	type entry struct {
		name  string
		size  int64
		mtime time.Time
		links uint64
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var files []entry
	var total int64
	for _, de := range ents {
		name := de.Name()
		if strings.HasSuffix(name, ".lock") || strings.HasSuffix(name, etagSuffix) {
			continue
		}
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		e := entry{name: name, size: fi.Size(), mtime: fi.ModTime(), links: 1}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			e.links = uint64(st.Nlink)
		}
		total += e.size
		files = append(files, e)
	}
	slices.SortFunc(files, func(a, b entry) int { return a.mtime.Compare(b.mtime) })
	for _, e := range files {
		if total <= o.CacheSizeLimit {
			return
		}
		digest := strings.TrimSuffix(strings.TrimPrefix(e.name, "."), ".partial")
		if digest == keep || e.links > 1 {
			continue
		}
		lock, err := os.OpenFile(filepath.Join(dir, digest+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			continue
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			lock.Close() // a pod downloads or links it right now
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.name)); err == nil {
			_ = os.Remove(filepath.Join(dir, e.name+etagSuffix))
			total -= e.size
			o.Log.Info("evicted from the model cache (least recently used)", "file", e.name, "bytes", e.size,
				"lastUsed", e.mtime.UTC().Format(time.RFC3339), "cacheBytes", total, "limit", o.CacheSizeLimit)
		}
		lock.Close()
	}
	if total > o.CacheSizeLimit {
		o.Log.Info("the model cache stays above its size limit: the rest is in use", "cacheBytes", total, "limit", o.CacheSizeLimit)
	}
}

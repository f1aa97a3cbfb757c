// Package httprange parses the HTTP Range headers that the model download and the
// header-only size read both depend on.
package httprange

import (
	"strconv"
	"strings"
)

// ParseContentRange reads "bytes START-END/SIZE".
func ParseContentRange(v string) (start, size int64, ok bool) {
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(v, "/")
	s, _, found2 := strings.Cut(rng, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(s, 10, 64)
	size, err2 := strconv.ParseInt(sz, 10, 64)
	if err1 != nil {
		return 0, 0, false
	}
	if err2 != nil {
		size = -1
	}
	return start, size, true
}

package cudabackend

import (
	"os"
	"strings"
)

var getenv = os.Getenv

func trimPrefix(s, p string) string { return strings.TrimPrefix(s, p) }

func joinErrs(errs []string) string { return strings.Join(errs, "; ") }

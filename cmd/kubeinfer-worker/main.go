// Command kubeinfer-worker is the inference worker binary. Each subcommand
// lives in its own file and registers itself in the commands table, so
// adding one (serve, fetch) touches nothing else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// command is one subcommand: run parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every subcommand gets from main.
type env struct {
	log    logr.Logger
	stdout io.Writer
	stderr io.Writer
}

// commands maps subcommand names to implementations; files add to it in init.
var commands = map[string]command{}

// exitCodeError makes the process exit with code instead of 1.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

// errUsage means the flags were wrong; the subcommand has printed its usage.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("kubeinfer-worker", flag.ContinueOnError)
	global.SetOutput(stderr)
	verbosity := global.Int("v", 0, "log verbosity (higher is chattier)")
	global.Usage = func() { usage(stderr) }
	if err := global.Parse(args); err != nil {
		return 2
	}
	if global.NArg() == 0 {
		usage(stderr)
		return 2
	}
	name := global.Arg(0)
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "kubeinfer-worker: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	// One JSON object per line: what log collectors parse, and what narration promises.
	log := funcr.NewJSON(func(obj string) {
		fmt.Fprintln(stderr, obj)
	}, funcr.Options{Verbosity: *verbosity, LogTimestamp: true}).WithName(name)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, &env{log: log, stdout: stdout, stderr: stderr}, global.Args()[1:]); err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		fmt.Fprintf(stderr, "kubeinfer-worker %s: %v\n", name, err)
		var ec exitCodeError
		if errors.As(err, &ec) {
			return ec.code
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: kubeinfer-worker [-v N] <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, argsUsage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kubeinfer-worker %s %s\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping flag errors to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
}

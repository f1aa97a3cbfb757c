package localrunner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one run of a container: a local process in its own process group.
type process struct {
	cmd        *exec.Cmd
	done       chan struct{}
	exitCode   int
	startedAt  time.Time
	finishedAt time.Time
	stderr     *tailBuffer
}

// startProcess starts ps with stdout and stderr appended to logPath.
func startProcess(ps ProcessSpec, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p := &process{done: make(chan struct{}), stderr: newTailBuffer(80, 2048)}
	cmd := exec.Command(ps.Path, ps.Args...)
	cmd.Env, cmd.Dir = ps.Env, ps.Dir
	cmd.Stdout = logf
	cmd.Stderr = io.MultiWriter(logf, p.stderr)
	// Its own process group, so a stop reaches the children it started; and killed by the
	// kernel if the runner dies without stopping it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p.cmd, p.startedAt = cmd, time.Now()
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.finishedAt = time.Now()
		p.exitCode = exitCode(cmd, err)
		close(p.done)
	}()
	return p, nil
}

// exitCode is the process's exit status, or 128+signal as a container runtime reports it.
func exitCode(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState == nil {
		return 128
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 128
	}
	return cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM to the process group, SIGKILL after grace, and waits for the exit.
func (p *process) stop(grace time.Duration) {
	pid := p.cmd.Process.Pid
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-p.done
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // whatever it left behind in its group
}

// tailBuffer keeps the last lines written to it, for a termination message.
type tailBuffer struct {
	mu       sync.Mutex
	lines    []string
	partial  bytes.Buffer
	maxLines int
	maxBytes int
}

func newTailBuffer(maxLines, maxBytes int) *tailBuffer {
	return &tailBuffer{maxLines: maxLines, maxBytes: maxBytes}
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial.Write(b)
	for {
		line, err := t.partial.ReadString('\n')
		if err != nil { // no newline yet: keep it for the next write
			t.partial.Reset()
			t.partial.WriteString(line)
			break
		}
		t.lines = append(t.lines, strings.TrimRight(line, "\r\n"))
		if len(t.lines) > t.maxLines {
			t.lines = t.lines[len(t.lines)-t.maxLines:]
		}
	}
	if t.partial.Len() > t.maxBytes {
		t.lines = append(t.lines, t.partial.String())
		t.partial.Reset()
	}
	return len(b), nil
}

// String is the kept lines, at most maxBytes from the end.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.Join(t.lines, "\n")
	if t.partial.Len() > 0 {
		if s != "" {
			s += "\n"
		}
		s += t.partial.String()
	}
	if len(s) > t.maxBytes {
		s = s[len(s)-t.maxBytes:]
	}
	return s
}

func (p *process) String() string { return fmt.Sprintf("pid %d", p.cmd.Process.Pid) }

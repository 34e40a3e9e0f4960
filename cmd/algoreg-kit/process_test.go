package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// This file runs the real binary as a subprocess, for the tests that must
// kill it (crash_test.go) or run several on one database (replica_test.go).

// buildBinary builds algoreg-kit into a folder of the test and returns its
// path. It skips without a go command, except under CI=true.
func buildBinary(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is needed on CI: %v", err)
		}
		t.Skipf("no go command to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "algoreg-kit")
	if out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// mockProcess is "algoreg-kit mock" running as a subprocess.
type mockProcess struct {
	URL    string
	cmd    *exec.Cmd
	stderr *mockBuffer
	exited chan struct{} // closed when Wait has returned
	err    error         // Wait's, once exited is closed
}

var servingOn = regexp.MustCompile(`^algoreg-kit mock serving on (http://\S+) `)

// startProcess starts bin mock on a free port with args and returns once it
// has printed where it serves; the process is killed when the test ends if
// it still runs.
func startProcess(t *testing.T, bin string, args ...string) *mockProcess {
	t.Helper()
	p := &mockProcess{stderr: &mockBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"mock", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	p.cmd.Stderr = p.stderr
	dieWithTest(p.cmd)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingOn.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
		p.err = p.cmd.Wait() // after the last read of stdout, as StdoutPipe asks
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	select {
	case p.URL = <-urls:
		return p
	case <-p.exited:
		t.Fatalf("mock %v exited before serving: %v\nstderr:\n%s", args, p.err, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("mock %v did not say where it serves within 30 s\nstderr:\n%s", args, p.stderr.String())
	}
	return nil
}

// kill sends SIGKILL (if the process still runs) and waits for it to end.
func (p *mockProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// stop sends SIGTERM and returns the process's exit error (nil: status 0).
func (p *mockProcess) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.exited
	return p.err
}

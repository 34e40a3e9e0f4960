package benchutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

var servingOn = regexp.MustCompile(`serving on (http://[0-9.:]+)`)

// StartMock runs the algoreg-kit binary bin with args (for example "mock",
// "--addr", "127.0.0.1:0") and returns its URL once it prints "serving on
// URL", and the running command; its stderr goes to stderr. The caller stops
// it (Process.Signal, then Wait).
func StartMock(bin string, args []string, stderr io.Writer) (string, *exec.Cmd, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := servingOn.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return m[1], cmd, nil
		}
	}
	cmd.Wait()
	return "", nil, fmt.Errorf("%s exited without serving", bin)
}

// ProcStatus is the value of field (VmRSS, VmHWM, …) in /proc/PID/status
// (Linux), for example "21504 kB", or "?" when it cannot be read.
func ProcStatus(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// ProcKB is ProcStatus's value in kB, or -1 when it cannot be read.
func ProcKB(pid int, field string) int64 {
	var kb int64
	if _, err := fmt.Sscanf(ProcStatus(pid, field), "%d kB", &kb); err != nil {
		return -1
	}
	return kb
}

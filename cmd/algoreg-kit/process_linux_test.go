package main

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill the mock when the test process ends, so
// that a test that panics (and so runs no cleanup) leaves no mock behind.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

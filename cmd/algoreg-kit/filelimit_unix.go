//go:build unix

package main

import "syscall"

// fileLimit returns the process's limit of open files (RLIMIT_NOFILE, the
// soft one, which the Go runtime raises to the hard one at start).
func fileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}

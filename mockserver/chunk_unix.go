//go:build unix

package mockserver

import (
	"fmt"
	"syscall"
)

// allocChunk returns n zeroed bytes mapped outside the Go heap (anonymous
// private memory, as VictoriaMetrics' fastcache does for the same reason):
// the garbage collector neither scans nor counts them, and pages that are
// never written cost no RAM. freeChunk gives them back.
func allocChunk(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		// Out of address space or memory: nothing sensible can go on, exactly
		// as when make fails.
		panic(fmt.Sprintf("mockserver: cannot map %d bytes for the store: %v", n, err))
	}
	return b
}

func freeChunk(b []byte) {
	if err := syscall.Munmap(b); err != nil {
		panic(fmt.Sprintf("mockserver: cannot unmap a store chunk: %v", err))
	}
}

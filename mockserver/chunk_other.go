//go:build !unix

package mockserver

// allocChunk returns n zeroed bytes. Without mmap they live on the Go heap;
// they hold no pointers, so the collector still does not scan them.
func allocChunk(n int) []byte { return make([]byte, n) }

func freeChunk([]byte) {}

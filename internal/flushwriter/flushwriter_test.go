package flushwriter_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/internal/flushwriter"
)

// lockedBuffer is the destination: it counts the writes that reach it.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) snapshot() (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.writes
}

func TestBuffersUntilFlushOrClose(t *testing.T) {
	dst := &lockedBuffer{}
	w := flushwriter.New(dst, time.Hour)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	got, writes := dst.snapshot()
	assert.Empty(t, got, "nothing is written before a flush")
	assert.Zero(t, writes)
	require.NoError(t, w.Close())
	got, writes = dst.snapshot()
	assert.Equal(t, 100, strings.Count(got, "\n"))
	assert.Equal(t, 1, writes, "100 lines cost one write")
	assert.NoError(t, w.Close(), "Close twice")
}

func TestFlushesEveryInterval(t *testing.T) {
	dst := &lockedBuffer{}
	w := flushwriter.New(dst, 5*time.Millisecond)
	defer w.Close()
	fmt.Fprintln(w, "hello")
	assert.Eventually(t, func() bool { got, _ := dst.snapshot(); return got == "hello\n" }, 5*time.Second, time.Millisecond)
}

// Concurrent writers never interleave inside a line; run with -race.
func TestConcurrentLinesStayWhole(t *testing.T) {
	dst := &lockedBuffer{}
	w := flushwriter.New(dst, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				fmt.Fprintf(w, "g%d %s\n", g, strings.Repeat("x", i%300))
			}
		})
	}
	wg.Wait()
	require.NoError(t, w.Close())
	got, _ := dst.snapshot()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	require.Len(t, lines, 8*2000)
	for _, l := range lines {
		var g int
		var xs string
		n, _ := fmt.Sscanf(l, "g%d %s", &g, &xs)
		if n == 2 {
			assert.Equal(t, strings.Repeat("x", len(xs)), xs)
		}
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReportsFlushErrors(t *testing.T) {
	w := flushwriter.New(failing{}, time.Hour)
	fmt.Fprintln(w, "a")
	assert.EqualError(t, w.Flush(), "disk full")
	_, err := fmt.Fprintln(w, "b")
	assert.EqualError(t, err, "disk full", "later writes report it")
	assert.EqualError(t, w.Close(), "disk full")
}

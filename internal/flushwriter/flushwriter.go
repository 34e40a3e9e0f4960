// Package flushwriter buffers writes to an io.Writer and flushes them at a
// fixed interval, so that a busy server's log costs one write system call per
// interval instead of one per line.
package flushwriter

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Writer buffers writes for at most one interval. It is safe for concurrent
// use. Each Write is copied whole into the buffer, so lines from different
// goroutines never interleave within a line. Close flushes what is left.
type Writer struct {
	mu     sync.Mutex // guards buf and err
	buf    *bufio.Writer
	err    error
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

// bufferSize is large enough for a few hundred log lines; a fuller buffer is
// written at once.
const bufferSize = 64 << 10

// New returns a Writer that flushes to w every interval.
func New(w io.Writer, interval time.Duration) *Writer {
	fw := &Writer{buf: bufio.NewWriterSize(w, bufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go fw.loop(interval)
	return fw
}

func (fw *Writer) loop(interval time.Duration) {
	defer close(fw.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			fw.Flush()
		case <-fw.stop:
			return
		}
	}
}

// Write buffers p. It returns the error of an earlier flush, if any, so that
// a closed output does not go unnoticed.
func (fw *Writer) Write(p []byte) (int, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err != nil {
		return 0, fw.err
	}
	n, err := fw.buf.Write(p)
	fw.err = err
	return n, err
}

// Flush writes what is buffered.
func (fw *Writer) Flush() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err == nil {
		fw.err = fw.buf.Flush()
	}
	return fw.err
}

// Close stops the interval flushes and flushes what is left. Writes after
// Close are still buffered but only written by a later Flush.
func (fw *Writer) Close() error {
	fw.closed.Do(func() { close(fw.stop) })
	<-fw.done
	return fw.Flush()
}

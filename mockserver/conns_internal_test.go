package mockserver

import (
	"bytes"
	"strings"
	"testing"
)

func TestHeaderScan(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   bool
	}{
		{"both", []string{"POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"}, true},
		{"both, split mid-name", []string{"POST / HTTP/1.1\r\nContent-Len", "gth: 2\r\nTransfer-", "Encoding: chunked\r\n", "\r\n"}, true},
		{"both, bare LF", []string{"POST / HTTP/1.1\ntransfer-encoding: chunked\ncontent-length: 2\n\n"}, true},
		{"Content-Length alone", []string{"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"}, false},
		{"chunked alone", []string{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"}, false},
		{"in two requests", []string{"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}, false},
		{"a long line", []string{"POST / HTTP/1.1\r\nX: " + strings.Repeat("a", 100) + "\r\n\r\n"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s headerScan
			got := false
			for _, c := range tt.chunks {
				got = s.feed([]byte(c)) || got
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkHeaderScan is the cost of Listener's scan on a body of 16 MiB of
// pretty-printed JSON (a line every 40 bytes), read 32 KiB at a time.
func BenchmarkHeaderScan(b *testing.B) {
	body := bytes.Repeat([]byte(`    "external_id": "customer-000001",`+"\n"), 16<<20/40)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var s headerScan
		for p := body; len(p) > 0; {
			n := min(len(p), 32<<10)
			s.feed(p[:n])
			p = p[n:]
		}
	}
}

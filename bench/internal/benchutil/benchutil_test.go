package benchutil_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
)

// Serve answers on every site until its context ends, then returns nil.
func TestServeUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var sites []benchutil.Site
	for _, body := range []string{"main", "side"} {
		ln, err := benchutil.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sites = append(sites, benchutil.Site{Listener: ln, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, body)
		})})
	}
	done := make(chan error, 1)
	go func() { done <- benchutil.Serve(ctx, sites...) }()
	for i, want := range []string{"main", "side"} {
		resp, err := http.Get("http://" + sites[i].Listener.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != want {
			t.Errorf("site %d: got %q, want %q", i, got, want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("got %v, want nil after the context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
	if _, err := http.Get("http://" + sites[0].Listener.Addr().String() + "/"); err == nil {
		t.Error("the site still answers after Serve returned")
	}
}

// A listener that fails ends Serve with "serve: …".
func TestServeError(t *testing.T) {
	ln, err := benchutil.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = benchutil.Serve(context.Background(), benchutil.Site{Listener: ln, Handler: http.NotFoundHandler()})
	if err == nil || !strings.HasPrefix(err.Error(), "serve: ") {
		t.Fatalf("got %v, want a serve: error", err)
	}
}

func TestListenNamesTheAddress(t *testing.T) {
	_, err := benchutil.Listen("127.0.0.1:notaport")
	if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:notaport") {
		t.Fatalf("got %v, want an error naming the address", err)
	}
}

// ProcKB reads this process's own VmRSS; a process that does not exist is -1.
func TestProcKB(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	if kb := benchutil.ProcKB(os.Getpid(), "VmRSS"); kb <= 0 {
		t.Errorf("VmRSS of this process: got %d kB, want > 0", kb)
	}
	if kb := benchutil.ProcKB(-1, "VmRSS"); kb != -1 {
		t.Errorf("VmRSS of pid -1: got %d, want -1", kb)
	}
}

// StartMock names the binary it could not start.
func TestStartMockNamesTheBinary(t *testing.T) {
	_, _, err := benchutil.StartMock("/nonexistent/algoreg-kit", []string{"mock"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/algoreg-kit") {
		t.Fatalf("got %v, want an error naming the binary", err)
	}
}

// Flags returns its errors, -h's flag.ErrHelp among them, and prints the
// usage on stderr, named after args[0].
func TestFlags(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr error // nil: any error but flag.ErrHelp
		stderr  string
	}{
		{"help", []string{"prog", "-h"}, flag.ErrHelp, "Usage of prog:"},
		{"unknown flag", []string{"prog", "-bogus"}, nil, "flag provided but not defined: -bogus"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			fs := benchutil.Flags(tt.args, &stderr)
			fs.Int("n", 1, "a number")
			err := fs.Parse(tt.args[1:])
			switch {
			case err == nil:
				t.Fatal("Parse returned nil, want an error")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && errors.Is(err, flag.ErrHelp):
				t.Fatalf("got flag.ErrHelp, want the parse error")
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.stderr)
			}
		})
	}
}

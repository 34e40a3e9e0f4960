package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
)

func main() {
	benchutil.Main("report", run)
}

func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := benchutil.Flags(args, stderr)
	dir := fs.String("dir", "", "the work folder bench/run.sh filled (load.ndjson, gen.ndjson, memory.json, machine.json)")
	command := fs.String("command", "bench/run.sh", "the command that produced the measurements, quoted in the report")
	out := fs.String("out", "", "also write the report to this file (e.g. bench/RESULTS.md)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("no -dir given; pass the work folder bench/run.sh printed")
	}
	res, err := readResults(*dir)
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	var buf bytes.Buffer
	render(&buf, res, *command)
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}

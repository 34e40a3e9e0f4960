package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/algoreg-kit/algoreg-kit/internal/buildinfo"
)

const versionUsage = `Usage: algoreg-kit version

Prints the module version and the VCS revision this binary was built from
("(devel)" for a build from a working tree, "unknown revision" when the build
recorded none, as "go run" does). Same as "algoreg-kit --version".
`

type versionConfig struct{ parsed }

func parseVersion(args []string, getenv func(string) string) (versionConfig, error) {
	var cfg versionConfig
	fs := newFlagSet("version", versionUsage)
	var err error
	cfg.notes, err = fs.parse(args, getenv)
	return cfg, err
}

func runVersion(ctx context.Context, cfg versionConfig, e env) error {
	_, err := fmt.Fprintln(e.stdout, buildinfo.Current())
	return err
}

// versionLine says which build bi is (see buildinfo.Build.String).
func versionLine(bi *debug.BuildInfo, ok bool) string { return buildinfo.From(bi, ok).String() }

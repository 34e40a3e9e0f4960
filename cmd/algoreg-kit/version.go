package main

import (
	"context"
	"fmt"
	"runtime/debug"
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
	bi, ok := debug.ReadBuildInfo()
	_, err := fmt.Fprintln(e.stdout, versionLine(bi, ok))
	return err
}

// versionLine says which build this is, from the build info the Go toolchain
// records: "algoreg-kit v1.2.0, revision 4649491c…, modified, go1.26.8", or
// "algoreg-kit (devel), unknown revision, go1.26.8".
func versionLine(bi *debug.BuildInfo, ok bool) string {
	version, revision, modified, goVersion := "(devel)", "unknown revision", false, "unknown Go version"
	if ok && bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = "revision " + s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified {
		revision += ", modified"
	}
	return fmt.Sprintf("algoreg-kit %s, %s, %s", version, revision, goVersion)
}

// Package buildinfo says which build of algoreg-kit is running, from the build
// information the Go toolchain records: for "algoreg-kit --version" and for
// the version the mock announces (GET /__admin/config and its
// Algoreg-Kit-Version header).
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Build is what the toolchain recorded of a build.
type Build struct {
	// Version is the module version, "(devel)" for a build from a working
	// tree (or when nothing was recorded).
	Version string
	// Revision is the VCS revision, "" when the build recorded none (as go
	// run and go test do).
	Revision string
	// Modified is true when the working tree had changes.
	Modified bool
	// GoVersion is the toolchain's version, "unknown Go version" when
	// unrecorded.
	GoVersion string
}

// From reads bi, the answer of debug.ReadBuildInfo (ok false: none).
func From(bi *debug.BuildInfo, ok bool) Build {
	b := Build{Version: "(devel)", GoVersion: "unknown Go version"}
	if !ok || bi == nil {
		return b
	}
	if bi.Main.Version != "" {
		b.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		b.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// Current is the running binary's build.
var Current = sync.OnceValue(func() Build { return From(debug.ReadBuildInfo()) })

// String says which build this is: "algoreg-kit v1.2.0, revision 4649491c…,
// modified, go1.26.8", or "algoreg-kit (devel), unknown revision, go1.26.8".
func (b Build) String() string {
	revision := "unknown revision"
	if b.Revision != "" {
		revision = "revision " + b.Revision
	}
	if b.Modified {
		revision += ", modified"
	}
	return fmt.Sprintf("algoreg-kit %s, %s, %s", b.Version, revision, b.GoVersion)
}

//go:build !unix

package storetest

import "time"

// cpuTime is not measured on this system: the CPU figures are left out.
func cpuTime() time.Duration { return 0 }

package openapi

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/cpuclock"
)

// The benchmarks of the request path, for a realistic body of 1 and of 1,000
// customers (realisticBody). Each reports µs/customer and customers/s besides
// ns/op and allocs/op; see README.md for the figures and the command.

var benchSizes = []int{1, 1000}

// reportPerCustomer reports the wall-clock figures, and the CPU time of the
// whole process (every goroutine, the garbage collector included) per
// customer: on a shared machine the wall clock counts other processes' load,
// the CPU time much less so. cpuStart is cpuclock.Process() just before the loop.
func reportPerCustomer(b *testing.B, n int, cpuStart time.Duration) {
	b.Helper()
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/float64(n)/1000, "µs/customer")
	b.ReportMetric(float64(n)*1e9/perOp, "customers/s")
	if cpuStart > 0 {
		cpuPerOp := float64((cpuclock.Process() - cpuStart).Nanoseconds()) / float64(b.N)
		b.ReportMetric(cpuPerOp/float64(n)/1000, "cpu-µs/customer")
		b.ReportMetric(float64(n)*1e9/cpuPerOp, "customers/cpu-s")
	}
}

// benchBodies runs op on the realistic body of each of benchSizes, as one
// sub-benchmark per size, reporting the per-customer figures.
func benchBodies(b *testing.B, op func(b *testing.B, body []byte) error) {
	for _, n := range benchSizes {
		body := realisticBody(b, 1, n)
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu := cpuclock.Process()
			for b.Loop() {
				if err := op(b, body); err != nil {
					b.Fatal(err)
				}
			}
			reportPerCustomer(b, n, cpu)
		})
	}
}

// BenchmarkDecodeSaveCustomers is the project's request path: syntax, schema
// types and the typed model in one pass.
func BenchmarkDecodeSaveCustomers(b *testing.B) {
	benchBodies(b, func(_ *testing.B, body []byte) error {
		_, err := DecodeSaveCustomers(body)
		return err
	})
}

// BenchmarkEncodingJSON is encoding/json into the model, with no validation.
func BenchmarkEncodingJSON(b *testing.B) {
	benchBodies(b, func(_ *testing.B, body []byte) error {
		var req SaveCustomersRequest
		return json.Unmarshal(body, &req)
	})
}

// BenchmarkValidateRequest is kin-openapi's ValidateRequest alone (route,
// decode into any, schema walk).
func BenchmarkValidateRequest(b *testing.B) {
	v := newTestValidator(b)
	benchBodies(b, func(b *testing.B, body []byte) error {
		return v.ValidateRequest(saveRequest(b, body))
	})
}

// BenchmarkValidateRequestAndDecode is the path without the decoder:
// kin-openapi's ValidateRequest, then encoding/json into the model.
func BenchmarkValidateRequestAndDecode(b *testing.B) {
	v := newTestValidator(b)
	benchBodies(b, func(b *testing.B, body []byte) error {
		if err := v.ValidateRequest(saveRequest(b, body)); err != nil {
			return err
		}
		var req SaveCustomersRequest
		return json.Unmarshal(body, &req)
	})
}

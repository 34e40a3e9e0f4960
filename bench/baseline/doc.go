// Command baseline is the bare Go server that bench/run.sh measures our mock
// against: net/http, the request body decoded into the typed model
// (openapi.SaveCustomersRequest), and a fixed, valid 200 response. It does no
// authentication, no per-record rule and keeps no state, so it is the ceiling
// for any Go mock of the Save customers endpoint on the machine it runs on.
//
// The -decode flag picks what the handler does with the body:
//
//	none     read the body, decode nothing (the HTTP stack alone)
//	std      encoding/json into openapi.SaveCustomersRequest (the naive mock)
//	project  openapi.DecodeSaveCustomers, the decoder the mock uses (the real ceiling)
//
// Usage:
//
//	go run ./bench/baseline -addr 127.0.0.1:18090 -decode project
//
// It prints "listening on http://ADDR" once it accepts connections, answers
// GET /healthz, and stops on SIGINT or SIGTERM.
package main

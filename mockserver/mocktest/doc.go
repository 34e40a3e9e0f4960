// Package mocktest starts the mock of package mockserver on an
// httptest.Server for Go tests, in one line, with every response checked
// against the OpenAPI document:
//
//	ts := mocktest.New(t)
//	resp := ts.Save(t, req)
//
// It is a package of its own because it imports testing and
// net/http/httptest, which the algoreg-kit binary must not link; import it
// from _test.go files only.
package mocktest

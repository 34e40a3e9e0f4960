// Command bodies turns Save customers request bodies (as written by
// "algoreg-kit fixtures --format request") into the body pool that bench/save.lua
// sends: one compact JSON body per line, with the marker @ID@ put in front of
// every identifier (external_id, relation_external_id and the relation's parent
// and child references). The load script replaces the marker with a prefix unique
// to each request, so every request creates new customers and its relations still
// name customers of the same request.
//
// Usage:
//
//	go run ./bench/bodies -in DIR|FILE... -customers 100 -out pool.txt
//
// -in takes files or folders (every *.json file of a folder, in name order); a
// file may hold one body or several, one per line. Each body must decode as a
// SaveCustomersRequest and, with -customers N, hold exactly N customers; bodies
// that do not are an error, so a benchmark never silently measures rejections.
package main

// Command gofakeitloop is the ceiling that bench/run.sh measures
// "algoreg-kit fixtures --format ndjson" against: the plain loop a developer
// would write with gofakeit — one gofakeit.New(seed) faker, its ready-made
// functions (FirstName, Company, Phone, Email, DateRange, …) filling the same
// fields as the fixtures' customers, in the same shares (30 % firms, 35 % with
// name variations, custom fields on 60 %, …), encoded with encoding/json into a
// buffered stdout, one customer per line.
//
// It makes no promise the fixtures make (valid country codes, E.164 phones of the
// domicile's country, no warning from the mock, reproducibility across gofakeit
// releases): it is the speed a plain loop reaches, not a generator to use.
//
// Usage:
//
//	go run ./bench/gofakeitloop -count 1000000 -seed 42 > /dev/null
package main

package mockserver

import (
	"strings"
	"testing"
	"time"
)

func TestParsePrefer(t *testing.T) {
	for _, tt := range []struct {
		name    string
		headers []string
		want    preferences
		wantErr string // a part of the error; "" for none
	}{
		{"none", nil, preferences{}, ""},
		{"code", []string{"code=503"}, preferences{code: 503}, ""},
		{"case and spaces", []string{" Code = 429 ;  foo=bar "}, preferences{code: 429}, ""},
		{"list", []string{"delay=250ms, fault=reset"}, preferences{delay: 250 * time.Millisecond, fault: faultReset}, ""},
		{"several headers", []string{"return=minimal", "delay=2s", "code=500"}, preferences{code: 500, delay: 2 * time.Second}, ""},
		{"quoted", []string{`code="503", fault="x,y"; a="b\"c"`}, preferences{}, "fault"},
		{"quoted value", []string{`delay="1s"`}, preferences{delay: time.Second}, ""},
		{"milliseconds", []string{"delay=1500"}, preferences{delay: 1500 * time.Millisecond}, ""},
		{"first wins", []string{"code=503, code=abc", "code=500"}, preferences{code: 503}, ""},
		{"unknown ignored", []string{"respond-async, wait=10, example=ok, dynamic=true"}, preferences{}, ""},
		{"empty elements", []string{",, code=502 ,"}, preferences{code: 502}, ""},
		{"each fault", []string{"fault=empty"}, preferences{fault: faultEmpty}, ""},
		{"truncated", []string{"fault=truncated"}, preferences{fault: faultTruncated}, ""},
		{"malformed", []string{"fault=malformed"}, preferences{fault: faultMalformed}, ""},
		{"code not a number", []string{"code=abc"}, preferences{}, "4xx or 5xx"},
		{"code 200", []string{"code=200"}, preferences{}, "4xx or 5xx"},
		{"code without value", []string{"code"}, preferences{}, "4xx or 5xx"},
		{"delay too long", []string{"delay=61s"}, preferences{}, "from 0 to 1m0s"},
		{"delay negative", []string{"delay=-1s"}, preferences{}, "from 0 to 1m0s"},
		{"delay not a duration", []string{"delay=soon"}, preferences{}, "250ms"},
		{"unknown fault", []string{"fault=slow"}, preferences{}, faultNames},
		{"code and fault", []string{"code=503, fault=reset"}, preferences{}, "not both"},
		{"open quote", []string{`code="503`}, preferences{}, "cannot be read"},
		{"bad token", []string{"co de=503"}, preferences{}, "cannot be read"},
		{"value not a token", []string{"code=5(3"}, preferences{}, "cannot be read"},
		{"no name", []string{"=503"}, preferences{}, "cannot be read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePrefer(tt.headers)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want %+v", err, tt.want)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %+v, %v; want an error containing %q", got, err, tt.wantErr)
			case got != tt.want:
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzPrefer feeds arbitrary header values to parsePrefer: it must not
// panic, and what it accepts must be within bounds.
func FuzzPrefer(f *testing.F) {
	for _, s := range []string{"code=503", "delay=250ms, fault=reset", `code="429"; x="a\"b"`, "respond-async", ",,", `"`, "delay=99999999999999999999"} {
		f.Add(s, "code=500")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		p, err := parsePrefer([]string{a, b})
		if err != nil {
			if p != (preferences{}) {
				t.Fatalf("an error with preferences %+v", p)
			}
			return
		}
		if p.delay < 0 || p.delay > MaxInjectedDelay || (p.code != 0 && (p.code < 400 || p.code > 599)) || p.fault > faultMalformed || (p.code != 0 && p.fault != faultNone) {
			t.Fatalf("%q, %q: out of bounds: %+v", a, b, p)
		}
	})
}

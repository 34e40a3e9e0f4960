package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v6"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// generate writes count customers as NDJSON to w.
func generate(w io.Writer, count int, seed int64) error {
	f := gofakeit.New(seed)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	for i := 0; i < count; i++ {
		if err := enc.Encode(customer(f, i)); err != nil {
			return fmt.Errorf("customer %d: %w", i, err)
		}
	}
	return bw.Flush()
}

var (
	bornFrom = time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	bornTo   = time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)
)

func ptr[T any](v T) *T { return &v }

// customer fills the fields of one fixtures customer with gofakeit's functions.
func customer(f *gofakeit.Faker, i int) openapi.Customer {
	c := openapi.Customer{ExternalID: ptr(fmt.Sprintf("cust-%08d", i))}
	firm := f.Float64Range(0, 1) < 0.3
	if firm {
		c.AccountType = ptr("F")
		name := f.Company() + " " + f.CompanySuffix()
		c.CompanyName = &name
		if f.Float64Range(0, 1) < 0.7 {
			c.TradingName = ptr(f.Company())
		}
		if f.Float64Range(0, 1) < 0.9 {
			c.RegistrationNumber = ptr(f.Numerify("#########"))
		}
	} else {
		c.AccountType = ptr("N")
		c.FirstName, c.LastName = ptr(f.FirstName()), ptr(f.LastName())
		if f.Float64Range(0, 1) < 0.4 {
			c.MiddleName = ptr(f.MiddleName())
		}
		if f.Float64Range(0, 1) < 0.95 {
			c.DateOfBirth = ptr(f.DateRange(bornFrom, bornTo).Format(time.DateOnly))
		}
		c.NationalityCode = ptr(f.CountryAbr())
	}
	c.DomicileCode = ptr(f.CountryAbr())
	if f.Float64Range(0, 1) < 0.8 {
		c.Phone = ptr("+" + f.Phone())
	}
	if f.Float64Range(0, 1) < 0.8 {
		level := int64(f.IntRange(0, 3))
		c.KYCLevel = &level
		if f.Float64Range(0, 1) < 0.6 {
			c.KYCLevelRequested = ptr(level + int64(f.IntRange(0, int(3-level))))
		}
	}
	if f.Float64Range(0, 1) < 0.5 {
		c.ReviewGroups = openapi.StringList{f.RandomString([]string{"retail", "corporate", "private-banking"}), f.RandomString([]string{"eu", "non-eu"})}
	}
	if f.Float64Range(0, 1) < 0.65 {
		c.Contacts = openapi.StringList{strings.ToLower(f.Email())}
	}
	if f.Float64Range(0, 1) < 0.3 {
		c.AliasIDs = []string{"crm-" + f.Numerify("######")}
	}
	if f.Float64Range(0, 1) < 0.1 {
		c.Comment = ptr(f.Sentence(8))
	}
	if f.Float64Range(0, 1) < 0.6 {
		c.Fields = map[string]any{
			"segment":            f.RandomString([]string{"mass", "affluent", "premium", "sme", "corporate"}),
			"risk_rating":        f.RandomString([]string{"low", "medium", "high"}),
			"onboarding_channel": f.RandomString([]string{"branch", "online", "partner"}),
			"customer_since":     f.Date().Format(time.DateOnly),
		}
	}
	if f.Float64Range(0, 1) < 0.35 {
		n := f.IntRange(1, 3)
		for k := 0; k < n; k++ {
			v := openapi.Variation{}
			if f.Bool() {
				v.Op = ptr("add")
			}
			if firm {
				v.CompanyName = ptr(f.Company())
			} else {
				v.FirstName, v.LastName = ptr(f.FirstName()), ptr(f.LastName())
			}
			c.Variations = append(c.Variations, v)
		}
	}
	return c
}

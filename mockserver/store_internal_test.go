package mockserver

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The record codec must give back exactly the customer it was given: every
// field, nil and empty lists kept apart, and every value type a JSON decoder
// puts in a custom field.
func TestRecordRoundTrip(t *testing.T) {
	full := rules.Customer{
		CustomerID: uuid.MustParse("3f1c2b9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b"), ExternalID: "cust-1", AccountType: "N",
		FirstName: "Zoë", MiddleName: "Ann", LastName: "D'Arcy", CompanyName: "c", TradingName: "t",
		RegistrationNumber: "B123", DateOfBirth: "1980-02-29", Phone: "+33612345678", Comment: strings.Repeat("é", 300),
		NationalityCodes: []string{"FR", "DE"}, DomicileCodes: []string{"FR"}, ReviewGroups: []string{"retail"},
		Contacts: []string{"a@example.org", ""}, AliasIDs: []string{"x"},
		Fields: []rules.Field{
			{Key: "a", Value: nil}, {Key: "b", Value: true}, {Key: "c", Value: false}, {Key: "d", Value: 42.0}, {Key: "e", Value: -7.0}, {Key: "f", Value: 0.1}, {Key: "g", Value: math.Copysign(0, -1)},
			{Key: "h", Value: 1e300}, {Key: "i", Value: float64(1 << 53)}, {Key: "j", Value: "text"}, {Key: "k", Value: json.Number("1e400")},
			{Key: "l", Value: []any{1.0, "x", []any{}, map[string]any{}}}, {Key: "m", Value: map[string]any{"n": map[string]any{"o": []any{nil}}}},
		},
		Variations: []rules.Variation{{FirstName: "Zoe"}, {LastName: "Darcy", TradingName: "T"}},
		KYCLevel:   -3, KYCLevelRequested: math.MaxInt64, CreatedAt: 1_700_000_000_000_000_000, UpdatedAt: 1_800_000_000_000_000_001,
		HasKYCLevel: true, HasDisabled: true, RiskScanDisabled: true,
	}
	cases := map[string]rules.Customer{
		"zero":        {},
		"id only":     {ExternalID: "a"},
		"full":        full,
		"empty lists": {ExternalID: "e", NationalityCodes: []string{}, Contacts: []string{}, Fields: []rules.Field{}, Variations: []rules.Variation{}},
		"flags":       {ExternalID: "f", HasKYCRequested: true, Disabled: true, UpdatedAt: -5},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec, err := appendCustomer(nil, &c)
			require.NoError(t, err)
			assert.Equal(t, c.ExternalID, string(recordID(rec)))
			got, err := decodeCustomer(rec)
			require.NoError(t, err)
			assert.Equal(t, c, got)
			// −0 survives (assert.Equal cannot tell it from 0).
			if name == "full" {
				assert.True(t, math.Signbit(got.Fields[6].Value.(float64)))
			}
			// The result does not alias the record.
			for i := range rec {
				rec[i] = 0xff
			}
			assert.Equal(t, c, got)
		})
	}
}

func TestRelationRecordRoundTrip(t *testing.T) {
	for name, r := range map[string]rules.Relation{
		"zero": {},
		"full": {RelationExternalID: "r1", ParentExternalID: "p", ChildExternalID: "ç", RelationType: 4, Disabled: true,
			Fields: []rules.Field{{Key: "share", Value: 0.25}, {Key: "since", Value: "2020"}}, CreatedAt: 10, UpdatedAt: 5},
		"empty fields": {RelationExternalID: "r2", Fields: []rules.Field{}},
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := appendRelation(nil, &r)
			require.NoError(t, err)
			assert.Equal(t, r.RelationExternalID, string(recordID(rec)))
			parent, child := relationEnds(rec)
			assert.Equal(t, [2]string{r.ParentExternalID, r.ChildExternalID}, [2]string{string(parent), string(child)})
			got, err := decodeRelation(rec)
			require.NoError(t, err)
			assert.Equal(t, r, got)
			for n := range len(rec) {
				_, err := decodeRelation(rec[:n])
				assert.ErrorIs(t, err, errCorruptRecord, "truncated to %d bytes", n)
			}
		})
	}
}

// Go callers of Server.Save may put any value in fields: it is stored as its
// JSON says, numbers exactly; a value without a JSON form is refused.
func TestRecordStoresGoValuesAsTheirJSON(t *testing.T) {
	type pair struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	in := []rules.Field{
		{Key: "int64", Value: int64(1) << 60}, {Key: "int", Value: -7}, {Key: "uint8", Value: uint8(200)}, {Key: "float32", Value: float32(0.1)},
		{Key: "struct", Value: pair{A: 1}}, {Key: "ints", Value: []int{1, 2}}, {Key: "map", Value: map[string]int{"x": 3}}, {Key: "ptr", Value: &pair{B: "y"}},
	}
	rec, err := appendCustomer(nil, &rules.Customer{ExternalID: "a", Fields: in})
	require.NoError(t, err)
	got, err := decodeCustomer(rec)
	require.NoError(t, err)
	for i, f := range got.Fields {
		want, _ := json.Marshal(in[i].Value)
		have, _ := json.Marshal(f.Value)
		assert.Equal(t, string(want), string(have), "field %s", f.Key)
	}
	for _, bad := range []any{make(chan int), func() {}, complex(1, 2)} {
		_, err := appendCustomer(nil, &rules.Customer{ExternalID: "a", Fields: []rules.Field{{Key: "f", Value: bad}}})
		assert.Error(t, err, "%T", bad)
	}
}

// A damaged record must decode to an error, never a panic, a huge allocation
// or a wrong customer: every truncation and every single-byte change of a
// real record is tried.
func TestDecodeCorruptRecord(t *testing.T) {
	rec, err := appendCustomer(nil, &rules.Customer{ExternalID: "x", FirstName: "A", Contacts: []string{"c"},
		Fields: []rules.Field{{Key: "k", Value: []any{map[string]any{"z": 1.5}}}}, Variations: []rules.Variation{{LastName: "V"}}})
	require.NoError(t, err)
	for n := range len(rec) {
		_, err := decodeCustomer(rec[:n])
		assert.ErrorIs(t, err, errCorruptRecord, "truncated to %d bytes", n)
	}
	_, err = decodeCustomer(append(rec[:len(rec):len(rec)], 0))
	assert.ErrorIs(t, err, errCorruptRecord, "a trailing byte")
	for i := range rec {
		for _, b := range []byte{0, 0x7f, 0x80, 0xff} {
			bad := append([]byte(nil), rec...)
			bad[i] = b
			assert.NotPanics(t, func() { _, _ = decodeCustomer(bad) }, "byte %d set to %#x", i, b)
		}
	}
}

func FuzzDecodeCustomerRecord(f *testing.F) {
	rec, _ := appendCustomer(nil, &rules.Customer{ExternalID: "x", Fields: []rules.Field{{Key: "k", Value: []any{map[string]any{"z": 1.5}}}}})
	f.Add(rec)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rec []byte) {
		c, err := decodeCustomer(rec)
		if err != nil {
			return
		}
		// Whatever decodes encodes back to a record that decodes the same.
		again, err := appendCustomer(nil, &c)
		require.NoError(t, err)
		c2, err := decodeCustomer(again)
		require.NoError(t, err)
		assert.Equal(t, c, c2)
	})
}

func TestSlotSize(t *testing.T) {
	for _, tc := range []struct{ rec, want int }{
		{0, 16}, {8, 16}, {9, 32}, {504, 512}, {505, 576}, {1000, 1024}, {1017, 1152}, {100_000, 106_496},
	} {
		got := slotSize(tc.rec)
		assert.Equal(t, tc.want, got, "record of %d bytes", tc.rec)
		assert.GreaterOrEqual(t, got, tc.rec+slotHeader)
		assert.LessOrEqual(t, float64(got), 1.125*float64(tc.rec+slotHeader)+15)
	}
}

// The slab keeps every record readable through any mix of growing, shrinking
// and moving replacements, reuses freed slots, gives dedicated chunks back,
// and accounts for its bytes.
func TestSlab(t *testing.T) {
	s := newSlab()
	defer s.reset()
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[int][]byte{}
	locs := map[int]uint64{}
	pattern := make([]byte, 4*dedicatedSlot+4096)
	for i := range pattern {
		pattern[i] = byte(rng.Uint32())
	}
	for step := range 20_000 {
		k := rng.IntN(500)
		size := rng.IntN(300)
		if rng.IntN(100) == 0 {
			size = dedicatedSlot + rng.IntN(3*dedicatedSlot) // a record too big for a shared chunk
		}
		rec := make([]byte, size)
		copy(rec, pattern[step%4096:]) // distinct contents, filled with one memmove
		old, ok := locs[k]
		locs[k] = s.put(old, ok, rec)
		want[k] = rec
	}
	var live, slots int64
	for k, rec := range want {
		require.Equal(t, rec, s.get(locs[k]), "record %d", k)
		live += int64(len(rec))
		size := int(binary.LittleEndian.Uint32(s.slot(locs[k])[4:]))
		assert.GreaterOrEqual(t, size, slotSize(len(rec)), "record %d", k)
		if size > 512 {
			assert.Less(t, size, 2*slotSize(len(rec)), "record %d keeps a slot far too big", k)
		}
		slots += int64(size)
	}
	assert.Equal(t, live, s.live)
	assert.Equal(t, slots, s.slots)
	// Replacements reused slots: the chunks hold little more than the live
	// slots plus the free lists, far below the 20,000 records written.
	var free int64
	for size, l := range s.free {
		free += int64(size) * int64(len(l))
	}
	assert.Less(t, s.footprint(), 2*(slots+free)+2*maxChunk)
	dedicated := 0
	for _, c := range s.chunks {
		if c != nil && len(c) > maxChunk {
			dedicated++
		}
	}
	for _, rec := range want {
		if slotSize(len(rec)) > dedicatedSlot {
			dedicated--
		}
	}
	assert.LessOrEqual(t, dedicated, 0, "dedicated chunks of replaced records were given back")
}

// Ids whose hashes collide are kept apart by the overflow index.
func TestMemStoreHashCollisions(t *testing.T) {
	s := NewMemStore()
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "b", func(tx Tx) error {
		collide := func(string) uint64 { return 7 } // every id collides
		tx.(memTx).t.customers.hash, tx.(memTx).t.relations.hash = collide, collide
		for i := range 50 {
			tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("c", i), FirstName: "v1"})
			tx.PutRelation(rules.Relation{RelationExternalID: fmt.Sprint("r", i), ParentExternalID: fmt.Sprint("c", i), ChildExternalID: "c0", RelationType: int64(i)})
		}
		for i := range 50 {
			if i%2 == 0 {
				tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("c", i), FirstName: strings.Repeat("v2", 100)})
			}
		}
		return nil
	}))
	require.NoError(t, s.View(ctx, "b", func(tx Tx) error {
		for i := range 50 {
			c, ok := tx.Customer(fmt.Sprint("c", i))
			require.True(t, ok, "c%d", i)
			want := "v1"
			if i%2 == 0 {
				want = strings.Repeat("v2", 100)
			}
			assert.Equal(t, want, c.FirstName, "c%d", i)
		}
		_, ok := tx.Customer("c50")
		assert.False(t, ok)
		for i := range 50 {
			r, ok := tx.Relation(fmt.Sprint("r", i))
			require.True(t, ok, "r%d", i)
			assert.Equal(t, int64(i), r.RelationType)
		}
		assert.Len(t, tx.RelationsOf("c0"), 50)
		assert.Len(t, tx.RelationsOf("c7", "c9"), 2)
		rels, total := tx.Relations(48, 10)
		assert.Equal(t, 50, total)
		assert.Equal(t, []string{"r8", "r9"}, []string{rels[0].RelationExternalID, rels[1].RelationExternalID})
		page, total := tx.Customers(0, 3)
		assert.Equal(t, 50, total)
		assert.Equal(t, []string{"c0", "c1", "c10"}, []string{page[0].ExternalID, page[1].ExternalID, page[2].ExternalID})
		return nil
	}))
	n, bytes := s.Footprint()
	assert.Equal(t, 50, n)
	assert.Positive(t, bytes)
}

// Resetting a business while saves and reads of it run must neither crash
// (its chunks are unmapped) nor mix old and new state; run with -race.
func TestMemStoreResetUnderLoad(t *testing.T) {
	s := NewMemStore()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				id := fmt.Sprint("g", g, "-", i)
				assert.NoError(t, s.Update(ctx, "b", func(tx Tx) error {
					tx.PutCustomer(&rules.Customer{ExternalID: id, LastName: strings.Repeat("x", i)})
					return nil
				}))
				assert.NoError(t, s.View(ctx, "b", func(tx Tx) error {
					if c, ok := tx.Customer(id); ok {
						assert.Equal(t, strings.Repeat("x", i), c.LastName)
					}
					tx.Customers(0, 5)
					return nil
				}))
			}
		}()
	}
	for range 50 {
		require.NoError(t, s.Reset(ctx, "b"))
	}
	wg.Wait()
	s.ResetAll()
	n, bytes := s.Footprint()
	assert.Zero(t, n)
	assert.Zero(t, bytes)
}

// Footprint, saves and the creation of businesses run together without
// deadlock: Update holds a business's lock while it takes the store's, so
// Footprint must not hold the store's lock while it waits for a business's.
func TestMemStoreFootprintDuringSaves(t *testing.T) {
	s := NewMemStore()
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					f(i)
				}
			}
		}()
	}
	run(func(i int) { s.Footprint() })
	run(func(i int) {
		_ = s.Update(ctx, "busy", func(tx Tx) error {
			tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("c", i%100)})
			return nil
		})
	})
	run(func(i int) { // each round creates a business and resets it: two writers of the store's lock
		_ = s.Update(ctx, "other", func(Tx) error { return nil })
		_ = s.Reset(ctx, "other")
	})
	time.Sleep(500 * time.Millisecond)
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: Footprint, Update and new businesses did not finish")
	}
}

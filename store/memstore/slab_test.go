package memstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkSlabs fails unless the slabs of tb account for its records: in
// order, inside the table, each counting as live the bytes of the slots it
// marks in place, and none with less than half its size live.
func checkSlabs(t *testing.T, tb *table) {
	t.Helper()
	end := int32(0)
	for _, s := range tb.slabs {
		require.GreaterOrEqual(t, s.first, end, "slabs overlap or are out of order")
		end = s.first + s.n
		require.LessOrEqual(t, int(end), tb.len(), "a slab past the table's records")
		live := 0
		for b := range uint(s.n) {
			if s.inPlace[b/64]&(1<<(b%64)) != 0 {
				live += len(tb.recs.at(s.first + int32(b)))
			}
		}
		require.Equal(t, live, s.live, "live bytes of the slab at %d", s.first)
		require.GreaterOrEqual(t, 2*s.live, s.size, "a slab less than half used is kept")
	}
}

// within reports whether rec's bytes lie in the n bytes at base.
func within(rec string, base *byte, n int) bool {
	p, b := uintptr(unsafe.Pointer(unsafe.StringData(rec))), uintptr(unsafe.Pointer(base))
	return p >= b && p < b+uintptr(n)
}

// The customers one save creates share one string (a slab); once more than
// half of them are replaced, the ones left get strings of their own, so the
// slab is no longer kept alive by the store.
func TestSlabIsReleasedWhenMostlyReplaced(t *testing.T) {
	s := New()
	ctx := context.Background()
	const n = 200
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i := range n {
			put(t, tx, fmt.Sprintf("c%03d", i), "v1")
		}
		return nil
	}))
	tb := &s.tenant("b", false).customers
	require.Len(t, tb.slabs, 1)
	sl := tb.slabs[0]
	assert.Equal(t, slab{first: 0, n: n, size: sl.size, live: sl.live, inPlace: sl.inPlace}, sl)
	base := unsafe.StringData(tb.recs.at(0))
	for i, rec := range tb.recs.from(0) {
		require.True(t, within(rec, base, sl.size), "record %d is not in the slab", i)
	}
	checkSlabs(t, tb)

	replaced := 0
	for ; len(tb.slabs) == 1; replaced++ {
		i := replaced
		require.Less(t, i, n/2+1, "the slab is kept with less than half of it in use")
		require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
			id := fmt.Sprintf("c%03d", i)
			_, ok, err := tx.Customer(id) // linked to this read, the write replaces in place
			require.True(t, ok)
			require.NoError(t, err)
			put(t, tx, id, "v2")
			return nil
		}))
		checkSlabs(t, tb)
	}
	for i, rec := range tb.recs.from(0) {
		assert.False(t, within(rec, base, sl.size), "record %d still in the released slab", i)
	}
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		for i := range n {
			c, ok, err := tx.Customer(fmt.Sprintf("c%03d", i))
			require.NoError(t, err)
			require.True(t, ok)
			want := "v1"
			if i < replaced {
				want = "v2"
			}
			assert.Equal(t, want, c.LastName, "customer %d", i)
		}
		return nil
	}))
}

// A save that mostly replaces records keeps the few it creates in strings
// of their own, not in a slab mostly made of records written elsewhere.
func TestSlabOfFewNewRecordsIsNotKept(t *testing.T) {
	s := New()
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i := range 50 {
			put(t, tx, fmt.Sprintf("c%03d", i), "v1")
		}
		return nil
	}))
	tb := &s.tenant("b", false).customers
	require.Len(t, tb.slabs, 1)
	// Writes without a read first: they go into the slab, and only at
	// commit turn out to replace stored records.
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i := range 50 {
			put(t, tx, fmt.Sprintf("c%03d", i), "v2")
		}
		put(t, tx, "new", "v1")
		return nil
	}))
	checkSlabs(t, tb)
	assert.Len(t, tb.slabs, 0, "the first slab is all replaced, the second mostly replacements")
}

// Random saves, some failing, some turned into locked transactions by a
// listing, some reading their own writes, and resets, against a map of what
// the business should hold: the store answers the map's content (so no
// record is changed by a later save that reuses the slab's buffer), and its
// slabs account for its records.
func TestSlabsAgainstAModel(t *testing.T) {
	rng := seeded(t)
	s := New()
	ctx := context.Background()
	model := map[string]string{}
	boom := errors.New("boom")
	for step := range 400 {
		if rng.IntN(40) == 0 {
			require.NoError(t, s.Reset(ctx, "b"))
			clear(model)
			continue
		}
		fail, listing := rng.IntN(5) == 0, rng.IntN(4) == 0
		writes := map[string]string{}
		err := s.Update(ctx, "b", func(tx store.Tx) error {
			clear(writes)
			for range 1 + rng.IntN(60) {
				id := fmt.Sprintf("c%03d", rng.IntN(300))
				if rng.IntN(2) == 0 {
					_, _, err := tx.Customer(id)
					require.NoError(t, err)
				}
				v := fmt.Sprintf("s%d-%s", step, strings.Repeat("x", rng.IntN(40)))
				put(t, tx, id, v)
				writes[id] = v
				if rng.IntN(4) == 0 { // its own write, before the slab is sealed
					c, ok, err := tx.Customer(id)
					require.NoError(t, err)
					require.True(t, ok)
					require.Equal(t, v, c.LastName, "step %d: %s read back", step, id)
				}
				if listing && rng.IntN(20) == 0 {
					_, _, err := tx.Customers(0, 1) // turns the transaction into a locked one
					require.NoError(t, err)
				}
			}
			if fail {
				return boom
			}
			return nil
		})
		if fail {
			require.ErrorIs(t, err, boom)
		} else {
			require.NoError(t, err)
			for id, v := range writes {
				model[id] = v
			}
		}
		got := map[string]string{}
		require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
			cs, _, err := tx.Customers(0, 1000)
			for _, c := range cs {
				got[c.ExternalID] = c.LastName
			}
			return err
		}))
		require.Equal(t, model, got, "step %d", step)
		if tn := s.tenant("b", false); tn != nil {
			tn.mu.RLock()
			checkSlabs(t, &tn.customers)
			tn.mu.RUnlock()
		}
	}
}

// Preload changes nothing that the reads after it answer, and what it read
// is checked at commit.
func TestPreload(t *testing.T) {
	s := New()
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		put(t, tx, "a", "v1")
		return tx.PutRelation(rules.Relation{RelationExternalID: "r", ParentExternalID: "a", ChildExternalID: "a"})
	}))
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		require.NoError(t, tx.(store.Preloader).Preload([]string{"a", "b", "a"}, []string{"r", "q"}))
		c, ok, err := tx.Customer("a")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "v1", c.LastName)
		_, ok, err = tx.Customer("b")
		require.NoError(t, err)
		assert.False(t, ok)
		_, ok, err = tx.Relation("r")
		require.NoError(t, err)
		assert.True(t, ok)
		put(t, tx, "b", "v1")
		return nil
	}))
	// A record Preload read and that changes before the commit makes fn
	// run again, as a record fn read itself does.
	runs := 0
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		runs++
		require.NoError(t, tx.(store.Preloader).Preload([]string{"a"}, nil))
		if runs == 1 {
			require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
				put(t, tx, "a", "v2")
				return nil
			}))
		}
		c, _, err := tx.Customer("a")
		require.NoError(t, err)
		put(t, tx, "a", c.LastName+"+")
		return nil
	}))
	assert.Equal(t, 2, runs)
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		c, _, err := tx.Customer("a")
		require.NoError(t, err)
		assert.Equal(t, "v2+", c.LastName)
		require.NoError(t, tx.(store.Preloader).Preload([]string{"b"}, nil))
		_, ok, err := tx.Customer("b")
		require.NoError(t, err)
		assert.True(t, ok)
		return nil
	}))
}

// A slabBuilder, new or reused, gives each record an offset in the sealed
// slab at which the slab holds it, and a copy of it before the seal; the
// slab is the records end to end, records larger than a chunk included,
// and a reused builder keeps at most maxSlabBuffer of chunks.
func TestSlabBuilder(t *testing.T) {
	rng := seeded(t)
	var s slabBuilder
	for round := range 30 {
		var want strings.Builder
		var offs []int32
		var recs []string
		for range rng.IntN(300) {
			n := 1 + rng.IntN(400)
			if rng.IntN(50) == 0 {
				n = slabChunk + rng.IntN(slabChunk) // its own chunk
			}
			rec := strings.Repeat(string(rune('a'+rng.IntN(26))), n)
			off := s.add([]byte(rec))
			require.Equal(t, want.Len(), int(off), "round %d", round)
			want.WriteString(rec)
			offs, recs = append(offs, off), append(recs, rec)
			if k := rng.IntN(len(recs)); rng.IntN(3) == 0 {
				require.Equal(t, recs[k], s.at(offs[k], int32(len(recs[k]))), "round %d: record %d before the seal", round, k)
			}
		}
		require.Equal(t, want.Len(), s.len())
		all := s.seal()
		require.Equal(t, want.String(), all, "round %d", round)
		for k, rec := range recs {
			require.Equal(t, rec, all[offs[k]:int(offs[k])+len(rec)])
		}
		require.Zero(t, s.len(), "sealed: empty")
		s = s.reuse()
		size := 0
		for _, c := range s.chunks {
			size += cap(c)
			require.Zero(t, len(c))
		}
		require.LessOrEqual(t, size, maxSlabBuffer)
	}
}

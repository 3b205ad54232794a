package ingest

import (
	"hash/maphash"
	"math"
	"sync"

	"github.com/stratus-metrics/stratus/model"
)

// Series references.
//
// A remote-write sender sends the same series request after request, in
// much the same order. When the store offers AppendRefs (RefAppender), the
// handler remembers the store's reference for the label bytes of each
// series it stored (remote write 1.0: the label messages as sent; 2.0: the
// label strings its symbol references resolve to), under a 96-bit hash of
// those bytes, and hands the references of known series to the store with
// the next batch. Those skip the store's series lookup: the key it would
// build and the fastcache it would search, about half of its CPU per
// sample.
//
// Entries are kept in the order the series first came, and the lookup of
// a batch's next series first tries the entry after the previous hit, so
// most lookups read the next 16 bytes of one array instead of missing the
// CPU caches in a hash table. An open-addressing index of positions finds
// the rest. The cache is shared by all requests (senders spread their
// requests over pooled connections, so a cache per connection would end
// up holding every series once per connection) and holds at most
// refCacheMaxEntries series, from 24 bytes each (a 16-byte entry and two
// or more 4-byte index slots); a cache that would grow past that starts
// over.

// RefAppender is an Appender that can skip the series lookup for series
// its caller has stored before. AppendRefs gets one reference per series of
// the batch: zero, or one that the same appender set for the same labels
// in an earlier call. It sets the reference of every series it stored
// samples of. The caller must be sure a non-zero reference names the
// labels it is given for; the store does not check. *tsdb.DB implements it.
type RefAppender interface {
	Appender
	AppendRefs(batch []model.TimeSeries, refs []uint64) (model.AppendResult, error)
}

const refCacheMaxEntries = 1 << 20

// refKey is the 96-bit hash of a series' label bytes: a picks the index
// slot, check confirms it.
type refKey struct {
	a     uint64
	check uint32
}

// refEntry is a cached series: its key, flattened so that the entry takes
// 16 bytes rather than 24 (refKey alone is padded to 16), and the store's
// reference.
type refEntry struct {
	a          uint64
	check, ref uint32
}

func (e *refEntry) is(k refKey) bool { return e.a == k.a && e.check == k.check }

// pendingRef is what a batch series goes to the store with: its key when
// keyed, and its reference from the cache (0 for none).
type pendingRef struct {
	key   refKey
	keyed bool
	ref   uint64
}

// refCache holds the series references of one Handler. It is safe for
// concurrent use: lookups share mu, stores take it alone.
type refCache struct {
	seedA, seedB maphash.Seed

	mu      sync.RWMutex
	entries []refEntry
	index   []uint32 // position+1 of an entry, 0 for an empty slot; len a power of two
}

func newRefCache() *refCache {
	return &refCache{seedA: maphash.MakeSeed(), seedB: maphash.MakeSeed()}
}

// key hashes a series' label bytes.
func (c *refCache) key(labels []byte) refKey {
	return refKey{a: maphash.Bytes(c.seedA, labels), check: uint32(maphash.Bytes(c.seedB, labels))}
}

// lookup sets the reference of every keyed series of ps that the cache
// holds, and clears the others'.
func (c *refCache) lookup(ps []pendingRef) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	next := len(c.entries) // where the next series is looked for first
	for i := range ps {
		p := &ps[i]
		p.ref = 0
		if !p.keyed {
			continue
		}
		if next < len(c.entries) && c.entries[next].is(p.key) {
			p.ref = uint64(c.entries[next].ref)
			next++
			continue
		}
		if at, ok := c.findLocked(p.key); ok {
			p.ref = uint64(c.entries[at].ref)
			next = at + 1
		}
	}
}

// store remembers refs[i] for every keyed series of ps whose reference the
// store set or changed.
func (c *refCache) store(ps []pendingRef, refs []uint64) {
	locked := false
	for i, p := range ps {
		ref := refs[i]
		if !p.keyed || ref == p.ref || ref == 0 || ref > math.MaxUint32 {
			continue
		}
		if !locked {
			c.mu.Lock()
			defer c.mu.Unlock()
			locked = true
		}
		c.putLocked(p.key, uint32(ref))
	}
}

// findLocked returns the position of k's entry.
func (c *refCache) findLocked(k refKey) (int, bool) {
	if len(c.index) == 0 {
		return 0, false
	}
	mask := uint64(len(c.index) - 1)
	for h := k.a & mask; ; h = (h + 1) & mask {
		p := c.index[h]
		if p == 0 {
			return 0, false
		}
		if c.entries[p-1].is(k) {
			return int(p - 1), true
		}
	}
}

func (c *refCache) putLocked(k refKey, ref uint32) {
	if at, ok := c.findLocked(k); ok {
		c.entries[at].ref = ref
		return
	}
	if len(c.entries) >= refCacheMaxEntries {
		c.entries, c.index = c.entries[:0], nil
	}
	if 2*(len(c.entries)+1) > len(c.index) {
		c.growLocked()
	}
	c.entries = append(c.entries, refEntry{a: k.a, check: k.check, ref: ref})
	c.insertLocked(k, len(c.entries))
}

// insertLocked files position pos (1-based) under k.
func (c *refCache) insertLocked(k refKey, pos int) {
	mask := uint64(len(c.index) - 1)
	h := k.a & mask
	for c.index[h] != 0 {
		h = (h + 1) & mask
	}
	c.index[h] = uint32(pos)
}

// growLocked doubles the index (at least 1024 slots) and refiles every
// entry.
func (c *refCache) growLocked() {
	c.index = make([]uint32, max(1024, 2*len(c.index)))
	for i, e := range c.entries {
		c.insertLocked(refKey{a: e.a}, i+1) // only a picks the slot
	}
}

// len returns the number of series held, for tests.
func (c *refCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

package tsdb

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
)

// memSeries is one series in memory: its identity and all its samples.
//
// Samples live in three places, oldest first: sealed blocks (one per closed
// time window, compact and immutable), head chunks (Gorilla-encoded, one or
// more per open window) and the pending sample (the newest sample, kept
// unencoded so that a second write with the same timestamp can replace it:
// last write wins). Samples that arrive out of order within the
// out-of-order window are kept in ooo, sorted, and override an encoded
// sample with the same timestamp when read or sealed.
type memSeries struct {
	id uint32

	// logged is set once the series' definition is durable in the WAL (or
	// a checkpoint); until then every append that uses the series logs the
	// definition again, so no acknowledged sample refers to an unknown id.
	logged atomic.Bool

	key string // canonical label key (model.AppendKey); the labels decode from it

	mu sync.Mutex // guards every field below

	// The fields are ordered so that the struct has no padding: 144
	// bytes, a size class of its own, instead of 160.
	hasPending bool
	deleted    bool // removed by retention; appenders must look the series up again
	pending    model.Sample

	blocks []sealedBlock // sorted by time, one per window
	chunks []headChunk   // sorted by time; only the last one is appended to

	ooo []model.Sample // sorted by T, unique T

	minT, maxT int64 // bounds of all samples held; maxT is the newest timestamp
}

// sealedBlock is an encoded block of one window; data is immutable once
// built, so readers may use it without the series lock.
type sealedBlock struct {
	mint, maxt int64
	data       []byte
}

// headChunk is a Gorilla chunk of samples of one window.
type headChunk struct {
	window int64 // start of the window the samples belong to
	c      *chunkenc.XORChunk
}

func newMemSeries(id uint32, key string) *memSeries {
	return &memSeries{id: id, key: key, minT: math.MaxInt64, maxT: math.MinInt64}
}

// labels decodes the series' labels; they alias s.key.
func (s *memSeries) labels() model.Labels {
	ls, err := model.KeyString(nil, s.key)
	if err != nil {
		panic("BUG: series key does not decode: " + err.Error())
	}
	return ls
}

// emptyLocked reports whether the series holds no samples.
func (s *memSeries) emptyLocked() bool {
	return len(s.blocks) == 0 && len(s.chunks) == 0 && !s.hasPending && len(s.ooo) == 0
}

// seriesTable maps series ids to series without locks on the read path: a
// page table, replaced as a whole when it grows, of fixed-size pages of
// atomic pointers.
type seriesTable struct {
	mu    sync.Mutex // serialises growth of pages
	pages atomic.Pointer[[]*seriesPage]
}

const seriesPageBits = 12

type seriesPage [1 << seriesPageBits]atomic.Pointer[memSeries]

func (t *seriesTable) get(id uint32) *memSeries {
	pp := t.pages.Load()
	if pp == nil {
		return nil
	}
	p := int(id >> seriesPageBits)
	if p >= len(*pp) {
		return nil
	}
	return (*pp)[p][id&(1<<seriesPageBits-1)].Load()
}

func (t *seriesTable) set(id uint32, s *memSeries) {
	p := int(id >> seriesPageBits)
	pp := t.pages.Load()
	if pp == nil || p >= len(*pp) {
		t.mu.Lock()
		pp = t.pages.Load()
		if pp == nil || p >= len(*pp) {
			var grown []*seriesPage
			if pp != nil {
				grown = append(grown, *pp...)
			}
			for len(grown) <= p {
				grown = append(grown, new(seriesPage))
			}
			t.pages.Store(&grown)
			pp = &grown
		}
		t.mu.Unlock()
	}
	(*pp)[p][id&(1<<seriesPageBits-1)].Store(s)
}

// seriesStripes is the authoritative map from series key to series,
// sharded by key hash so that creations on different series do not contend.
// The fastcache in front of it is only a cache and may forget entries.
type seriesStripes struct {
	stripes [256]seriesStripe
}

type seriesStripe struct {
	mu sync.RWMutex // guards m and collided
	m  map[uint64]*memSeries
	// collided holds the series whose key hash m already maps to another
	// series. With 64-bit hashes that practically never happens, so m
	// holds one pointer per series instead of a slice and its array.
	collided map[uint64][]*memSeries
}

func (ss *seriesStripes) stripe(hash uint64) *seriesStripe {
	return &ss.stripes[hash&uint64(len(ss.stripes)-1)]
}

// getLocked returns the series with key among those with hash; the caller
// holds the stripe's lock.
func (st *seriesStripe) getLocked(hash uint64, key []byte) *memSeries {
	if s := st.m[hash]; s != nil && s.key == string(key) {
		return s
	}
	for _, s := range st.collided[hash] {
		if s.key == string(key) {
			return s
		}
	}
	return nil
}

// addLocked adds s, whose key hashes to hash and is not in the stripe yet;
// the caller holds the stripe's write lock.
func (st *seriesStripe) addLocked(hash uint64, s *memSeries) {
	if st.m == nil {
		st.m = make(map[uint64]*memSeries)
	}
	if _, taken := st.m[hash]; !taken {
		st.m[hash] = s
		return
	}
	if st.collided == nil {
		st.collided = make(map[uint64][]*memSeries)
	}
	st.collided[hash] = append(st.collided[hash], s)
}

// deleteLocked removes s, whose key hashes to hash; the caller holds the
// stripe's write lock.
func (st *seriesStripe) deleteLocked(hash uint64, s *memSeries) {
	list := st.collided[hash]
	if st.m[hash] == s {
		if len(list) == 0 {
			delete(st.m, hash)
			return
		}
		st.m[hash], list = list[0], list[1:]
	} else {
		list = slices.DeleteFunc(slices.Clone(list), func(x *memSeries) bool { return x == s })
	}
	if len(list) == 0 {
		delete(st.collided, hash)
	} else {
		st.collided[hash] = list
	}
}

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
// Samples live in four places, oldest first: sealed blocks (one per closed
// time window, compact and immutable), closed head chunks (Gorilla-encoded,
// in the chunk log; see head_chunks.go), the open head chunk (appended to,
// in memory) and the pending sample (the newest sample, kept unencoded so
// that a second write with the same timestamp can replace it: last write
// wins). Samples that arrive out of order within the out-of-order window
// are kept in ooo, sorted, and override an encoded sample with the same
// timestamp when read or sealed.
type memSeries struct {
	id uint32

	// logged is set once the series' definition is durable in the WAL (or
	// a checkpoint); until then every append that uses the series logs the
	// definition again, so no acknowledged sample refers to an unknown id.
	logged atomic.Bool

	key string // canonical label key (model.AppendKey); the labels decode from it

	mu sync.Mutex // guards every field below

	// The fields are ordered so that the struct has no padding.
	hasPending bool
	deleted    bool // removed by retention; appenders must look the series up again
	// nClosed is how many closed head chunks the series has; closed is the
	// newest one's reference (0 when there are none). Walking back nClosed
	// records from it visits them newest first; sealing drops the oldest
	// by lowering nClosed.
	nClosed uint32
	closed  chunkRef
	pending model.Sample

	blocks []sealedBlock // sorted by time, one per window

	// head is the open head chunk, of the window its first sample is in;
	// empty (no samples) when the series has no encoded sample after its
	// closed chunks.
	head chunkenc.XORChunk

	// ooo holds samples stored out of order, sorted by T with unique T;
	// nil when there are none, which is almost always, so it costs a
	// pointer rather than a slice header.
	ooo *[]model.Sample

	minT, maxT int64 // bounds of all samples held; maxT is the newest timestamp
}

// sealedBlock is an encoded block of one window; data is immutable once
// built, so readers may use it without the series lock.
type sealedBlock struct {
	mint, maxt int64
	data       []byte
}

func newMemSeries(id uint32, key string) *memSeries {
	s := &memSeries{id: id, key: key, minT: math.MaxInt64, maxT: math.MinInt64}
	s.head.Reset()
	return s
}

// labels decodes the series' labels; they alias s.key.
func (s *memSeries) labels() model.Labels {
	ls, err := model.KeyString(nil, s.key)
	if err != nil {
		panic("BUG: series key does not decode: " + err.Error())
	}
	return ls
}

// oooLocked returns the out-of-order samples; the caller holds s.mu.
func (s *memSeries) oooLocked() []model.Sample {
	if s.ooo == nil {
		return nil
	}
	return *s.ooo
}

// setOOOLocked replaces the out-of-order samples; the caller holds s.mu.
func (s *memSeries) setOOOLocked(ss []model.Sample) {
	switch {
	case len(ss) == 0:
		s.ooo = nil
	case s.ooo == nil:
		s.ooo = &ss
	default:
		*s.ooo = ss
	}
}

// emptyLocked reports whether the series holds no samples.
func (s *memSeries) emptyLocked() bool {
	return len(s.blocks) == 0 && s.nClosed == 0 && s.head.NumSamples() == 0 && !s.hasPending && s.ooo == nil
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

package tsdb

import (
	"math"
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
	id  uint32
	key string // canonical label key (model.AppendKey); the labels decode from it

	// logged is set once the series' definition is durable in the WAL (or
	// a checkpoint); until then every append that uses the series logs the
	// definition again, so no acknowledged sample refers to an unknown id.
	logged atomic.Bool

	mu sync.Mutex // guards every field below

	blocks []sealedBlock // sorted by time, one per window
	chunks []headChunk   // sorted by time; only the last one is appended to

	hasPending bool
	pending    model.Sample

	ooo []model.Sample // sorted by T, unique T

	minT, maxT int64 // bounds of all samples held; maxT is the newest timestamp

	deleted bool // removed by retention; appenders must look the series up again
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
	mu sync.RWMutex // guards m
	m  map[uint64][]*memSeries
}

func (ss *seriesStripes) stripe(hash uint64) *seriesStripe {
	return &ss.stripes[hash&uint64(len(ss.stripes)-1)]
}

// getLocked returns the series with key among those with hash; the caller
// holds the stripe's lock.
func (st *seriesStripe) getLocked(hash uint64, key []byte) *memSeries {
	for _, s := range st.m[hash] {
		if s.key == string(key) {
			return s
		}
	}
	return nil
}

func (st *seriesStripe) addLocked(hash uint64, s *memSeries) {
	if st.m == nil {
		st.m = make(map[uint64][]*memSeries)
	}
	st.m[hash] = append(st.m[hash], s)
}

func (st *seriesStripe) deleteLocked(hash uint64, s *memSeries) {
	list := st.m[hash]
	for i, x := range list {
		if x == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(st.m, hash)
	} else {
		st.m[hash] = list
	}
}

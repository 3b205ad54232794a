package graphapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

// Page sizes of the tags API. Atlas pages its tags the same way: at most
// limit results, sorted, strictly after the offset.
const (
	// DefaultTagsLimit is the page size when the request has no limit.
	DefaultTagsLimit = 1000
	// MaxTagsLimit is the largest page a request may ask for.
	MaxTagsLimit = 10_000
)

// tags answers /api/v1/tags (keys) and /api/v1/tags/{key} (values) with a
// JSON array of strings, sorted, restricted by an optional query q and
// the range s..e (default: all time until now), one page at a time:
//
//   - limit (default DefaultTagsLimit, at most MaxTagsLimit) bounds the
//     page;
//   - offset is the cursor: only results strictly greater than it are
//     listed, so passing the last result of a page as the next request's
//     offset pages through every result exactly once.
//
// When results remain after the page, a Link header with rel="next" holds
// the URL of the next page (the same request with offset set to the last
// result), so clients need not know the rule, and the header Atlas's
// clients read, X-Nflx-Atlas-Next-Offset, holds the offset itself when it
// can be a header value (printable ASCII).
func (h *Handler) tags(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query()
	limit := DefaultTagsLimit
	if v := p.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxTagsLimit {
			writeError(w, badRequest("invalid parameter \"limit\": %q is not a whole number in [1, %d]", v, MaxTagsLimit))
			return
		}
		limit = n
	}
	offset, hasOffset := p.Get("offset"), p.Has("offset")
	if hasOffset && offset == "" {
		writeError(w, badRequest("invalid parameter \"offset\": empty; pass the last result of the previous page, or leave offset out for the first page"))
		return
	}
	now := h.opts.Now()
	mint, maxt := int64(math.MinInt64/2), now.UnixMilli()
	if v := p.Get("e"); v != "" {
		t, err := ParseTime(v, now, time.UTC, nil)
		if err != nil {
			writeError(w, badRequest("invalid parameter \"e\": %v", err))
			return
		}
		maxt = t.UnixMilli()
	}
	if v := p.Get("s"); v != "" {
		t, err := ParseTime(v, now, time.UTC, map[string]time.Time{"e": time.UnixMilli(maxt)})
		if err != nil {
			writeError(w, badRequest("invalid parameter \"s\": %v", err))
			return
		}
		mint = t.UnixMilli()
	}
	if mint > maxt {
		writeError(w, badRequest("invalid parameters \"s\" and \"e\": start %s is after end %s",
			time.UnixMilli(mint).UTC().Format(time.RFC3339), time.UnixMilli(maxt).UTC().Format(time.RFC3339)))
		return
	}
	var ms []*model.Matcher
	if q := p.Get("q"); q != "" {
		qq, err := stacklang.ParseQuery(q)
		if err != nil {
			writeError(w, badRequest("invalid parameter \"q\": %v", err))
			return
		}
		ms = stacklang.Matchers(qq)
	}
	var out []string
	var err error
	if key, ok := mux.Vars(r)["key"]; ok {
		if key == "name" {
			key = model.MetricName
		}
		out, err = h.q.LabelValues(r.Context(), key, mint, maxt, ms...)
		// The store's lists are sorted; sort anyway, the cursor needs it.
		slices.Sort(out)
	} else {
		out, err = h.q.LabelNames(r.Context(), mint, maxt, ms...)
		for i, k := range out {
			if k == model.MetricName {
				out[i] = "name"
			}
		}
		slices.Sort(out)
	}
	if err != nil {
		writeError(w, &httpError{http.StatusInternalServerError, "internal", err})
		return
	}
	out = slices.Compact(out)
	page, more := tagsPage(out, offset, limit)
	if more {
		next := *r.URL
		q := next.Query()
		q.Set("offset", page[len(page)-1])
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", linkURL(&next)))
		if last := page[len(page)-1]; headerSafe(last) {
			w.Header().Set(NextOffsetHeader, last)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

// NextOffsetHeader is the header Atlas sets on a page of tags that has a
// next page, holding the offset of that page.
const NextOffsetHeader = "X-Nflx-Atlas-Next-Offset"

// headerSafe reports whether s can be sent as a header value unchanged.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != "" && s[0] != ' ' && s[len(s)-1] != ' '
}

// tagsPage returns at most limit entries of sorted that are greater than
// offset (all of them for an empty offset), and whether more follow.
func tagsPage(sorted []string, offset string, limit int) ([]string, bool) {
	i := 0
	if offset != "" {
		i, _ = slices.BinarySearch(sorted, offset)
		if i < len(sorted) && sorted[i] == offset {
			i++
		}
	}
	rest := sorted[i:]
	if len(rest) > limit {
		return rest[:limit], true
	}
	if rest == nil {
		rest = []string{}
	}
	return rest, false
}

// linkURL is the path and query of u, safe inside a Link header's <...>.
func linkURL(u *url.URL) string {
	s := u.RequestURI()
	return strings.NewReplacer("<", "%3C", ">", "%3E").Replace(s)
}

package graphapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/graphapi"
	"github.com/stratus-metrics/stratus/query/querytest"
)

// tagsServer serves series whose "host" values are numerous and awkward
// for a cursor: prefixes of each other, non-ASCII, characters that URLs
// and Link headers escape.
func tagsServer(t *testing.T) (*httptest.Server, []string) {
	t.Helper()
	var hosts []string
	for i := range 1203 {
		hosts = append(hosts, fmt.Sprintf("h%04d", i))
	}
	hosts = append(hosts, "h", "h0", "h00", "ümlaut", "a b", "x<y>&z", "comma,and;semi", "new\nline", "%41", "~")
	var ss []model.TimeSeries
	for i, h := range hosts {
		ls := model.FromStrings("__name__", "cpu", "host", h, fmt.Sprintf("k%03d", i%700), "v")
		ss = append(ss, model.TimeSeries{Labels: ls, Samples: []model.Sample{{T: now.Add(-time.Hour).UnixMilli(), V: 1}}})
	}
	q := querytest.NewMemQuerier(ss...)
	r := mux.NewRouter()
	graphapi.New(q, query.NewEngine(q, query.DefaultEngineOptions()), graphapi.Options{Now: func() time.Time { return now }}).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	slices.Sort(hosts)
	return srv, hosts
}

var nextLink = regexp.MustCompile(`^<([^>]*)>; rel="next"$`)

// page fetches one page and returns it and the next page's URL, if any.
func page(t *testing.T, srv *httptest.Server, uri string) ([]string, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + uri)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []string
	if err := json.NewDecoder(resp.Body).Decode(&got); resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET %s: %d %v", uri, resp.StatusCode, err)
	}
	next := ""
	if l := resp.Header.Get("Link"); l != "" {
		m := nextLink.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("GET %s: Link %q", uri, l)
		}
		next = m[1]
	}
	return got, next
}

func TestTagsPaging(t *testing.T) {
	srv, hosts := tagsServer(t)
	// The default page is DefaultTagsLimit values.
	first, next := page(t, srv, "/api/v1/tags/host")
	if len(first) != graphapi.DefaultTagsLimit || next == "" || !slices.Equal(first, hosts[:graphapi.DefaultTagsLimit]) {
		t.Fatalf("first page: %d values, next %q", len(first), next)
	}
	for _, limit := range []int{13, 999, 1212, 1213, 10_000} {
		t.Run(fmt.Sprintf("values limit %d by Link", limit), func(t *testing.T) {
			var all []string
			uri := "/api/v1/tags/host?limit=" + itoa(limit)
			pages := 0
			for uri != "" {
				var got []string
				got, uri = page(t, srv, uri)
				if len(got) > limit || (uri != "" && len(got) != limit) {
					t.Fatalf("page %d: %d values with limit %d, next %q", pages, len(got), limit, uri)
				}
				all = append(all, got...)
				pages++
				if pages > len(hosts)+1 {
					t.Fatal("paging does not end")
				}
			}
			if !slices.Equal(all, hosts) {
				t.Fatalf("paged %d values in %d pages, want each of %d once in order", len(all), pages, len(hosts))
			}
		})
		t.Run(fmt.Sprintf("values limit %d by offset", limit), func(t *testing.T) {
			// The Atlas way: the last value of a page is the next offset;
			// a short page is the last.
			var all []string
			params := url.Values{"limit": {itoa(limit)}}
			for {
				got, _ := page(t, srv, "/api/v1/tags/host?"+params.Encode())
				all = append(all, got...)
				if len(got) < limit {
					break
				}
				params.Set("offset", got[len(got)-1])
			}
			if !slices.Equal(all, hosts) {
				t.Fatalf("paged %d values, want each of %d once in order", len(all), len(hosts))
			}
		})
	}
	t.Run("Atlas's next-offset header", func(t *testing.T) {
		// Atlas clients page with the header; it is there while the next
		// offset can be a header value.
		var all []string
		params := url.Values{"limit": {"500"}}
		for {
			resp, err := http.Get(srv.URL + "/api/v1/tags/host?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got...)
			next := resp.Header.Get(graphapi.NextOffsetHeader)
			if next == "" {
				break
			}
			if next != got[len(got)-1] {
				t.Fatalf("next offset %q, last value %q", next, got[len(got)-1])
			}
			params.Set("offset", next)
		}
		if !slices.Equal(all, hosts) {
			t.Fatalf("paged %d values by the header, want %d", len(all), len(hosts))
		}
	})
	t.Run("values limit 1 with q", func(t *testing.T) {
		var all []string
		uri := "/api/v1/tags/host?" + url.Values{"q": {"host,h00,:starts"}, "limit": {"1"}}.Encode()
		for uri != "" {
			var got []string
			got, uri = page(t, srv, uri)
			all = append(all, got...)
		}
		want := slices.DeleteFunc(slices.Clone(hosts), func(h string) bool { return !strings.HasPrefix(h, "h00") })
		if len(want) != 101 || !slices.Equal(all, want) {
			t.Fatalf("paged %q, want %q", all, want)
		}
	})
	t.Run("keys", func(t *testing.T) {
		var all []string
		for uri := "/api/v1/tags?limit=500"; uri != ""; {
			var got []string
			got, uri = page(t, srv, uri)
			all = append(all, got...)
		}
		if len(all) != 702 || !slices.IsSorted(all) || all[0] != "host" || all[len(all)-1] != "name" || len(slices.Compact(slices.Clone(all))) != len(all) {
			t.Fatalf("keys: %d, first %q, last %q", len(all), all[0], all[len(all)-1])
		}
	})
	t.Run("offset between values and past the end", func(t *testing.T) {
		got, next := page(t, srv, "/api/v1/tags/host?limit=3&offset=h0000a")
		if !slices.Equal(got, []string{"h0001", "h0002", "h0003"}) || next == "" {
			t.Errorf("offset h0000a: %q next %q", got, next)
		}
		got, next = page(t, srv, "/api/v1/tags/host?offset=ÿ")
		if len(got) != 0 || next != "" {
			t.Errorf("offset past the end: %q next %q", got, next)
		}
	})
	t.Run("with q", func(t *testing.T) {
		got, next := page(t, srv, "/api/v1/tags/host?"+url.Values{"q": {"host,h00,:starts"}, "limit": {"2"}, "offset": {"h0098"}}.Encode())
		if !slices.Equal(got, []string{"h0099"}) || next != "" {
			t.Errorf("got %q next %q", got, next)
		}
	})
}

func TestTagsBadParameters(t *testing.T) {
	srv, _ := tagsServer(t)
	for _, c := range []struct {
		path   string
		params url.Values
		msg    string
	}{
		{"/api/v1/tags/host", url.Values{"limit": {"0"}}, `invalid parameter "limit": "0" is not a whole number in [1, 10000]`},
		{"/api/v1/tags/host", url.Values{"limit": {"-5"}}, `invalid parameter "limit"`},
		{"/api/v1/tags", url.Values{"limit": {"ten"}}, `invalid parameter "limit": "ten"`},
		{"/api/v1/tags", url.Values{"limit": {"10001"}}, `[1, 10000]`},
		{"/api/v1/tags/host", url.Values{"offset": {""}}, `invalid parameter "offset": empty`},
		{"/api/v1/tags/host", url.Values{"s": {"yesterday"}}, `invalid parameter "s"`},
		{"/api/v1/tags/host", url.Values{"e": {"now-1q"}}, `invalid parameter "e"`},
		{"/api/v1/tags/host", url.Values{"s": {"now"}, "e": {"now-1h"}}, `start 2024-01-01T03:00:00Z is after end 2024-01-01T02:00:00Z`},
		{"/api/v1/tags/host", url.Values{"q": {"host,:eq"}}, `invalid parameter "q": :eq needs 2 items`},
		{"/api/v1/tags/host", url.Values{"q": {"name,cpu,:eq,:sum"}}, `invalid parameter "q"`},
	} {
		code, ctype, body := get(t, srv, c.path, c.params)
		var e struct{ Status, ErrorType, Error string }
		if err := json.Unmarshal(body, &e); code != 400 || err != nil || e.Status != "error" || e.ErrorType != "bad_data" ||
			!strings.Contains(e.Error, c.msg) || ctype != "application/json" {
			t.Errorf("%s?%s: got %d %s %s, want 400 with %q", c.path, c.params.Encode(), code, ctype, body, c.msg)
		}
	}
}

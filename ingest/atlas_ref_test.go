package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

// serveAtlasJSON is the publish handler as it was before fastjson:
// encoding/json into maps, about ten times slower. The differential tests
// below hold serveAtlas to its outcomes: the same status and the same
// stored samples for every payload.
func (h *Handler) serveAtlasJSON(w http.ResponseWriter, hr *http.Request, r *request) int {
	body, herr := r.readBody(hr, encIdentity|encGzip|encZstd, encIdentity)
	if herr != nil {
		return writeJSON(w, herr.status, atlasResponse{Type: "error", ErrorCount: 1, Message: []string{herr.msg}})
	}
	var p struct {
		Tags    map[string]string `json:"tags"`
		Metrics []json.RawMessage `json:"metrics"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&p); err != nil {
		return writeJSON(w, http.StatusBadRequest, atlasResponse{Type: "error", ErrorCount: 1, Message: []string{err.Error()}})
	}
	asLabels := func(m map[string]string) []model.Label {
		var ls []model.Label
		for k, v := range m {
			ls = append(ls, model.Label{Name: k, Value: v})
		}
		return ls
	}
	if err := h.checkAtlasTags(asLabels(p.Tags), true); err != nil {
		return writeJSON(w, http.StatusBadRequest, atlasResponse{Type: "error", ErrorCount: len(p.Metrics), Message: []string{err.Error()}})
	}
	for i, raw := range p.Metrics {
		var m struct {
			Tags      map[string]string `json:"tags"`
			Timestamp int64             `json:"timestamp"`
			Value     json.RawMessage   `json:"value"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			r.rejectRow(i, 1, reasonParse, err)
			continue
		}
		v, err := referenceAtlasValue(m.Value)
		if err != nil {
			r.rejectRow(i, 1, reasonParse, err)
			continue
		}
		merged := map[string]string{}
		for k, v := range p.Tags {
			merged[k] = v
		}
		for k, v := range m.Tags {
			merged[k] = v
		}
		r.startSeries()
		for k, v := range merged {
			if k == atlasNameTag {
				k = model.MetricName
			}
			r.addLabel(k, v)
		}
		if err := h.checkAtlasTags(asLabels(merged), false); err != nil {
			r.rejectSeries(i, reasonInvalidLabels, err)
			continue
		}
		t := m.Timestamp
		if t == 0 {
			t = r.nowMs
		}
		r.addSample(t, v)
		r.finishSeries(i)
	}
	r.flush()
	return r.respondAtlas(w)
}

func referenceAtlasValue(b json.RawMessage) (float64, error) {
	if b == nil {
		return 0, errors.New("metric has no value")
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity", "+Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	if string(b) == "null" {
		return 0, errors.New("value is null")
	}
	var v float64
	return v, json.Unmarshal(b, &v)
}

// atlasGen writes publish payloads from fuzz bytes: the shapes Atlas
// clients send and the mistakes they make (wrong types, duplicate fields,
// escaped keys, invalid tags, special values), in any order. Field names
// are lower case and not repeated within an object: encoding/json matches
// them case-insensitively and merges a repeated map field, where Atlas and
// serveAtlas match exactly and take the last. Tag keys do not repeat
// either: serveAtlas takes the last value, where encoding/json fails on an
// earlier value of the wrong type (though it keeps null as "").
type atlasGen struct {
	data []byte
	b    strings.Builder
}

func (g *atlasGen) pick(n int) int {
	if len(g.data) == 0 {
		return 0
	}
	c := int(g.data[0]) % n
	g.data = g.data[1:]
	return c
}

// fields returns a subset of the field numbers 0..n-1 in a chosen order.
func (g *atlasGen) fields(n int) []int {
	order := make([]int, 0, n)
	for _, f := range g.perm(n) {
		if g.pick(4) != 0 {
			order = append(order, f)
		}
	}
	return order
}

func (g *atlasGen) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := g.pick(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func (g *atlasGen) tags() {
	switch g.pick(8) {
	case 0:
		g.b.WriteString("null")
		return
	case 1:
		g.b.WriteString(`["name","x"]`)
		return
	}
	keys := []string{"name", "nf.app", "nf.region", "team", "a", "has space", `st\u0061ge`, "status"}
	values := []string{`"cpu"`, `"billing"`, `"eu-west-1"`, `""`, `"has space"`, `"caf\u00e9"`, `"x\"y"`, `1`, `null`, `"2xx"`}
	chosen := g.fields(len(keys))
	g.join('{', chosen[:min(g.pick(5), len(chosen))], '}', func(k int) {
		fmt.Fprintf(&g.b, `"%s":%s`, keys[k], values[g.pick(len(values))])
	})
}

// join writes open, then write(item) for each item with commas between,
// then close.
func (g *atlasGen) join(open byte, items []int, close byte, write func(int)) {
	g.b.WriteByte(open)
	for i, item := range items {
		if i > 0 {
			g.b.WriteByte(',')
		}
		write(item)
	}
	g.b.WriteByte(close)
}

func (g *atlasGen) metric() {
	switch g.pick(10) {
	case 0:
		g.b.WriteString("null")
		return
	case 1:
		g.b.WriteString(`"metric"`)
		return
	}
	timestamps := []string{fmt.Sprint(testNowMs), fmt.Sprint(testNowMs - 60_000), "0", "null", `"1"`, "1.5", "-5", "1e3", fmt.Sprint(testNowMs) + ".0"}
	values := []string{"1", "-2.5", "0", "1e308", "1e400", `"NaN"`, `"Infinity"`, `"-Infinity"`, `"+Infinity"`, `"x"`, "null", "true", "[]", "12345678901234567890"}
	g.join('{', g.fields(4), '}', func(field int) {
		switch field {
		case 0:
			g.b.WriteString(`"tags":`)
			g.tags()
		case 1:
			fmt.Fprintf(&g.b, `"timestamp":%s`, timestamps[g.pick(len(timestamps))])
		case 2:
			fmt.Fprintf(&g.b, `"value":%s`, values[g.pick(len(values))])
		case 3:
			g.b.WriteString(`"other":{"nested":[1,{"a":null}]}`)
		}
	})
}

func (g *atlasGen) payload() string {
	g.join('{', g.fields(2), '}', func(field int) {
		if field == 0 {
			g.b.WriteString(`"tags":`)
			g.tags()
			return
		}
		g.b.WriteString(`"metrics":`)
		g.join('[', make([]int, g.pick(7)), ']', func(int) { g.metric() })
	})
	return g.b.String()
}

// checkAtlasAgainstReference sends payload to serveAtlas and to
// serveAtlasJSON and fails when their statuses or stored samples differ.
func checkAtlasAgainstReference(t *testing.T, payload []byte) {
	t.Helper()
	got, want := newTestEnv(t, nil), newTestEnv(t, nil)
	want.mux.HandleFunc("/reference", want.h.instrument(formatAtlas, "metrics", want.h.serveAtlasJSON))
	gotRec, wantRec := got.do(t, "/api/v1/publish", payload), want.do(t, "/reference", payload)
	stored := func(e *testEnv) string {
		lines := strings.Split(dump(e.app.series()), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	if gotRec.Code != wantRec.Code || stored(got) != stored(want) {
		t.Fatalf("payload %s\nserveAtlas:     %d %s%s\nencoding/json: %d %s%s",
			payload, gotRec.Code, gotRec.Body, stored(got), wantRec.Code, wantRec.Body, stored(want))
	}
}

// TestAtlasMatchesReference runs payloads from a fixed sequence of
// generator inputs through both decoders.
func TestAtlasMatchesReference(t *testing.T) {
	for i := range 3000 {
		seed := make([]byte, 64)
		for j := range seed {
			seed[j] = byte((i*131 + j*29 + i*j*7) % 251)
		}
		g := &atlasGen{data: seed}
		checkAtlasAgainstReference(t, []byte(g.payload()))
	}
}

// FuzzAtlasMatchesReference is TestAtlasMatchesReference with the fuzzer
// choosing the payloads.
func FuzzAtlasMatchesReference(f *testing.F) {
	f.Add([]byte{2, 1, 3, 0, 1, 2, 3, 4, 5})
	f.Add([]byte{1, 0, 4, 2, 1, 0, 0, 2, 5, 1, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &atlasGen{data: data}
		checkAtlasAgainstReference(t, []byte(g.payload()))
	})
}

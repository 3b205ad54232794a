package query

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

// A query answer written as it is encoded is byte for byte what
// encoding/json makes of the same answer (which validates, compacts and
// escapes what MarshalJSON returns), however many times it is flushed.
func TestWriteQueryDataMatchesEncodingJSON(t *testing.T) {
	big := make(Matrix, 300)
	for i := range big {
		big[i].Metric = model.FromStrings(model.MetricName, "x", "i", fmt.Sprint(i), "odd", "<a&b>\u2028\"\\\n\x01\xff")
		for j := range 50 {
			big[i].Floats = append(big[i].Floats, FPoint{T: int64(j)*15_500 - 7, F: float64(i*j) / 3})
		}
	}
	big[7].Floats[3].F = math.NaN()
	big[8].Floats[4].F = math.Inf(-1)
	for _, c := range []struct {
		name     string
		v        Value
		warnings []string
	}{
		{"matrix flushed many times", big, nil},
		{"empty matrix", Matrix{}, nil},
		{"vector", Vector{{Metric: big[1].Metric, T: 1500, F: 1e-7}, {Metric: model.Labels{}, T: 0, F: math.Copysign(0, -1)}}, []string{"PromQL info: <careful>"}},
		{"long vector", func() Vector {
			var v Vector
			for _, s := range big {
				v = append(v, Sample{Metric: s.Metric, T: 42, F: s.Floats[5].F})
			}
			return v
		}(), nil},
		{"scalar", Scalar{T: 1001, V: 2.5e21}, nil},
		{"string", String{T: 3, V: "a\"b<"}, []string{"w1", "w2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeSuccess(rec, apiResult{data: queryData{c.v}, warnings: c.warnings})
			data, err := json.Marshal(queryData{c.v})
			if err != nil {
				t.Fatal(err)
			}
			want := `{"status":"success","data":` + string(data)
			if len(c.warnings) > 0 {
				w, _ := json.Marshal(c.warnings)
				want += `,"warnings":` + string(w)
			}
			want += "}"
			if got := rec.Body.String(); got != want {
				t.Errorf("got %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" || rec.Code != 200 {
				t.Errorf("status %d, Content-Type %q", rec.Code, ct)
			}
		})
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

package query

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

// BenchmarkWriteMatrix encodes the answer of the benchmark's join, 1,000
// series of 121 points (3.6 MB of JSON), as query_range writes it.
func BenchmarkWriteMatrix(b *testing.B) {
	m := make(Matrix, 1000)
	for i := range m {
		m[i].Metric = model.FromStrings("instance", fmt.Sprintf("10.1.%d.%d:8080", i/50, i%50))
		for j := range 121 {
			m[i].Floats = append(m[i].Floats, FPoint{T: 1_795_000_000_000 + int64(j)*60_000, F: 0.1 + float64(i*j)/7})
		}
	}
	res := apiResult{data: queryData{m}}
	w := &discardResponse{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.n = 0
		writeSuccess(w, res)
	}
	b.SetBytes(int64(w.n))
}

// discardResponse is a ResponseWriter that counts what it is sent.
type discardResponse struct {
	header http.Header
	n      int
}

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }

package render

import (
	"fmt"
	"math"
)

// Fixed inputs for the golden files and benchmarks; deterministic by
// construction (no clock, no randomness).

const testStart = int64(1704067200000) // 2024-01-01T00:00:00Z

// wave returns n values of a smooth pseudo-random signal, so that charts
// look like real metrics without using math/rand.
func wave(n int, seed, base, amp float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		x := float64(i)
		v[i] = base + amp*(0.6*math.Sin(x/40+seed)+0.3*math.Sin(x/11+2*seed)+0.1*math.Sin(x/3.1+3*seed))
	}
	return v
}

// linesGraph is a 3h runtime-health graph: request rates per country with a
// gap, an alert window and a stats legend.
func linesGraph() Graph {
	const n = 180
	step := int64(60000)
	countries := []string{"de", "fr", "it", "es"}
	var series []Series
	for i, c := range countries {
		v := wave(n, float64(i)*1.7, 1500+float64(i)*400, 600)
		if i == 1 {
			for j := 60; j < 75; j++ {
				v[j] = math.NaN() // a scrape outage
			}
		}
		series = append(series, Series{
			Label:  "requests per second, country=" + c,
			Tags:   map[string]string{"name": "requests", "country": c},
			Start:  testStart,
			Step:   step,
			Values: v,
		})
	}
	return Graph{
		Title:      "Billing API requests",
		Start:      testStart,
		End:        testStart + n*step,
		Step:       step,
		Series:     series,
		Axes:       []Axis{{Label: "requests/s"}},
		VSpans:     []VSpan{{Start: testStart + 100*step, End: testStart + 130*step, Label: "alert: HighErrorRatio firing"}},
		ShowLegend: true,
		ShowStats:  true,
	}
}

// stackGraph is a dark 1-day migration graph: rows copied per country as a
// stack on the left axis, replication lag as a line on the right.
func stackGraph() Graph {
	const n = 288
	step := int64(5 * 60000)
	var series []Series
	for i, c := range []string{"de", "fr", "it", "es", "nl"} {
		v := wave(n, float64(i)*2.3, 2e6+float64(i)*5e5, 1.5e6)
		for j := range v {
			v[j] = math.Max(v[j], 0)
		}
		if i == 2 {
			for j := 100; j < 120; j++ {
				v[j] = math.NaN() // a missing layer must not tear the stack
			}
		}
		series = append(series, Series{
			Label: "rows copied/s, country=" + c, Start: testStart, Step: step, Values: v,
			Style: Style{Kind: Stack},
		})
	}
	lag := wave(n, 0.5, 0.02, 0.015)
	series = append(series, Series{
		Label: "replication lag", Start: testStart, Step: step, Values: lag,
		Style: Style{Color: "ffffff", LineWidth: 2, Axis: 1},
	})
	return Graph{
		Title:      "Oracle → MySQL migration",
		Start:      testStart,
		End:        testStart + n*step,
		Step:       step,
		Series:     series,
		Axes:       []Axis{{Label: "rows/s"}, {Label: "lag (s)"}},
		Theme:      "dark",
		ShowLegend: true,
	}
}

// emptyGraph has a series without a single value.
func emptyGraph() Graph {
	step := int64(60000)
	nan := make([]float64, 60)
	for i := range nan {
		nan[i] = math.NaN()
	}
	return Graph{
		Title:      "Circuit breakers open",
		Start:      testStart,
		End:        testStart + 60*step,
		Step:       step,
		Series:     []Series{{Label: "breakers open", Start: testStart, Step: step, Values: nan}},
		ShowLegend: true,
	}
}

// Size of the benchmark graph: the 100 lines of 1,440 points (a
// day at one minute).
const (
	benchLines  = 100
	benchPoints = 1440
)

// benchGraph is the benchmark's shape: benchLines series of benchPoints
// points on the default 700x300 canvas, with a stats legend (50 rows and
// a summary of the other 50, as Atlas lists them).
func benchGraph() Graph {
	step := int64(60000)
	series := make([]Series, benchLines)
	for i := range series {
		series[i] = Series{Label: fmt.Sprintf("series %02d", i), Start: testStart, Step: step, Values: wave(benchPoints, float64(i), 100+float64(i)*10, 50)}
	}
	return Graph{Start: testStart, End: testStart + benchPoints*step, Step: step, Series: series, ShowLegend: true, ShowStats: true}
}

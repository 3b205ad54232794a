package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The OTLP/JSON encoding (protobuf's JSON mapping with lowerCamelCase
// names): 64-bit integers may be strings or numbers, enums numbers or
// names, non-finite doubles the strings "NaN", "Infinity", "-Infinity".
type (
	jsonOTLPRequest struct {
		ResourceMetrics []struct {
			Resource struct {
				Attributes []jsonKV `json:"attributes"`
			} `json:"resource"`
			ScopeMetrics []struct {
				Metrics []jsonMetric `json:"metrics"`
			} `json:"scopeMetrics"`
		} `json:"resourceMetrics"`
	}

	jsonKV struct {
		Key   string       `json:"key"`
		Value jsonAnyValue `json:"value"`
	}

	jsonAnyValue struct {
		StringValue *string    `json:"stringValue"`
		BoolValue   *bool      `json:"boolValue"`
		IntValue    *jsonInt   `json:"intValue"`
		DoubleValue *jsonFloat `json:"doubleValue"`
		ArrayValue  *struct {
			Values []jsonAnyValue `json:"values"`
		} `json:"arrayValue"`
		KvlistValue *struct {
			Values []jsonKV `json:"values"`
		} `json:"kvlistValue"`
		BytesValue *string `json:"bytesValue"`
	}

	jsonMetric struct {
		Name  string `json:"name"`
		Unit  string `json:"unit"`
		Gauge *struct {
			DataPoints []jsonPoint `json:"dataPoints"`
		} `json:"gauge"`
		Sum *struct {
			DataPoints             []jsonPoint `json:"dataPoints"`
			AggregationTemporality jsonEnum    `json:"aggregationTemporality"`
			IsMonotonic            bool        `json:"isMonotonic"`
		} `json:"sum"`
		Histogram *struct {
			DataPoints             []jsonPoint `json:"dataPoints"`
			AggregationTemporality jsonEnum    `json:"aggregationTemporality"`
		} `json:"histogram"`
		ExponentialHistogram *struct {
			DataPoints []json.RawMessage `json:"dataPoints"`
		} `json:"exponentialHistogram"`
		Summary *struct {
			DataPoints []jsonPoint `json:"dataPoints"`
		} `json:"summary"`
	}

	jsonPoint struct {
		Attributes     []jsonKV    `json:"attributes"`
		TimeUnixNano   jsonInt     `json:"timeUnixNano"`
		AsDouble       *jsonFloat  `json:"asDouble"`
		AsInt          *jsonInt    `json:"asInt"`
		Flags          uint32      `json:"flags"`
		Count          jsonInt     `json:"count"`
		Sum            *jsonFloat  `json:"sum"`
		BucketCounts   []jsonInt   `json:"bucketCounts"`
		ExplicitBounds []jsonFloat `json:"explicitBounds"`
		QuantileValues []struct {
			Quantile jsonFloat `json:"quantile"`
			Value    jsonFloat `json:"value"`
		} `json:"quantileValues"`
	}
)

// jsonInt is a 64-bit integer written as a JSON string or number. The bits
// are kept as uint64; signed fields convert.
type jsonInt uint64

func (j *jsonInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		*j = jsonInt(u)
		return nil
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not a 64-bit integer", quoteTrunc(string(b)))
	}
	*j = jsonInt(uint64(i))
	return nil
}

// jsonFloat is a double, with protobuf JSON's strings for non-finite values.
type jsonFloat float64

func (j *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*j = jsonFloat(math.NaN())
		return nil
	case `"Infinity"`:
		*j = jsonFloat(math.Inf(1))
		return nil
	case `"-Infinity"`:
		*j = jsonFloat(math.Inf(-1))
		return nil
	}
	f, err := strconv.ParseFloat(string(bytes.Trim(b, `"`)), 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", quoteTrunc(string(b)))
	}
	*j = jsonFloat(f)
	return nil
}

// jsonEnum is AggregationTemporality as a number or its name.
type jsonEnum int

func (j *jsonEnum) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"AGGREGATION_TEMPORALITY_UNSPECIFIED"`:
		*j = 0
	case `"AGGREGATION_TEMPORALITY_DELTA"`:
		*j = otlpDelta
	case `"AGGREGATION_TEMPORALITY_CUMULATIVE"`:
		*j = otlpCumulative
	default:
		n, err := strconv.Atoi(string(b))
		if err != nil {
			return fmt.Errorf("aggregation temporality %s is not known", quoteTrunc(string(b)))
		}
		*j = jsonEnum(n)
	}
	return nil
}

// decodeOTLPJSON reads an ExportMetricsServiceRequest in JSON into the
// same model the protobuf decoder fills.
func decodeOTLPJSON(b []byte) ([]otlpResourceMetrics, error) {
	var req jsonOTLPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, err
	}
	out := make([]otlpResourceMetrics, 0, len(req.ResourceMetrics))
	for _, jrm := range req.ResourceMetrics {
		var rm otlpResourceMetrics
		rm.resource = jsonAttrs(jrm.Resource.Attributes)
		for _, sm := range jrm.ScopeMetrics {
			for _, jm := range sm.Metrics {
				rm.metrics = append(rm.metrics, jm.model())
			}
		}
		out = append(out, rm)
	}
	return out, nil
}

func (jm *jsonMetric) model() otlpMetric {
	m := otlpMetric{name: jm.Name, unit: jm.Unit}
	var points []jsonPoint
	switch {
	case jm.Gauge != nil:
		m.kind, points = otlpGauge, jm.Gauge.DataPoints
	case jm.Sum != nil:
		m.kind, points = otlpSum, jm.Sum.DataPoints
		m.temporality, m.monotonic = int(jm.Sum.AggregationTemporality), jm.Sum.IsMonotonic
	case jm.Histogram != nil:
		m.kind, points = otlpHistogram, jm.Histogram.DataPoints
		m.temporality = int(jm.Histogram.AggregationTemporality)
	case jm.Summary != nil:
		m.kind, points = otlpSummary, jm.Summary.DataPoints
	case jm.ExponentialHistogram != nil:
		m.kind = otlpExpHistogram
		m.points = make([]otlpPoint, len(jm.ExponentialHistogram.DataPoints))
	}
	for _, jp := range points {
		p := otlpPoint{
			attrs:    jsonAttrs(jp.Attributes),
			timeNano: uint64(jp.TimeUnixNano),
			flags:    jp.Flags,
			count:    uint64(jp.Count),
		}
		switch {
		case jp.AsDouble != nil:
			p.value = float64(*jp.AsDouble)
		case jp.AsInt != nil:
			p.value = float64(int64(*jp.AsInt))
		}
		if jp.Sum != nil {
			p.sum, p.hasSum = float64(*jp.Sum), true
		}
		for _, c := range jp.BucketCounts {
			p.buckets = append(p.buckets, uint64(c))
		}
		for _, b := range jp.ExplicitBounds {
			p.bounds = append(p.bounds, float64(b))
		}
		for _, q := range jp.QuantileValues {
			p.quantiles = append(p.quantiles, otlpQuantile{float64(q.Quantile), float64(q.Value)})
		}
		m.points = append(m.points, p)
	}
	return m
}

func jsonAttrs(kvs []jsonKV) []otlpAttr {
	out := make([]otlpAttr, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, otlpAttr{key: kv.Key, value: anyString(kv.Value.goValue(0))})
	}
	return out
}

// goValue converts an AnyValue to the Go values anyString renders. Nesting
// past maxAnyDepth is cut off rather than rejected: encoding/json already
// bounds the depth of the document.
func (v *jsonAnyValue) goValue(depth int) any {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.BoolValue != nil:
		return *v.BoolValue
	case v.IntValue != nil:
		return int64(*v.IntValue)
	case v.DoubleValue != nil:
		return float64(*v.DoubleValue)
	case v.BytesValue != nil:
		b, err := base64.StdEncoding.DecodeString(*v.BytesValue)
		if err != nil {
			return *v.BytesValue
		}
		return b
	case depth > maxAnyDepth:
		return nil
	case v.ArrayValue != nil:
		arr := make([]any, 0, len(v.ArrayValue.Values))
		for i := range v.ArrayValue.Values {
			arr = append(arr, v.ArrayValue.Values[i].goValue(depth+1))
		}
		return arr
	case v.KvlistValue != nil:
		m := make(map[string]any, len(v.KvlistValue.Values))
		for i := range v.KvlistValue.Values {
			m[v.KvlistValue.Values[i].Key] = v.KvlistValue.Values[i].Value.goValue(depth + 1)
		}
		return m
	}
	return nil
}

package ingest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// The OTLP metrics model, reduced to what ingest stores. Both the protobuf
// and the JSON decoder fill it, so that translation to series is written
// once.
type (
	otlpAttr struct{ key, value string }

	otlpResourceMetrics struct {
		resource []otlpAttr
		metrics  []otlpMetric // of all scopes
	}

	otlpMetric struct {
		name, unit  string
		kind        otlpKind
		temporality int // 1 delta, 2 cumulative
		monotonic   bool
		points      []otlpPoint
	}

	otlpPoint struct {
		attrs     []otlpAttr
		timeNano  uint64
		value     float64 // gauge and sum
		flags     uint32
		count     uint64 // histogram and summary
		sum       float64
		hasSum    bool
		buckets   []uint64
		bounds    []float64
		quantiles []otlpQuantile
	}

	otlpQuantile struct{ q, v float64 }
)

type otlpKind int

const (
	otlpNone otlpKind = iota
	otlpGauge
	otlpSum
	otlpHistogram
	otlpExpHistogram
	otlpSummary
)

const (
	otlpDelta      = 1
	otlpCumulative = 2
	// otlpNoRecordedValue is DataPointFlags.FLAG_NO_RECORDED_VALUE: the
	// point marks a series as gone, stored as the staleness marker.
	otlpNoRecordedValue = 1
)

// decodeOTLPProto reads an ExportMetricsServiceRequest. Field numbers are
// those of opentelemetry/proto/metrics/v1/metrics.proto and
// common/v1/common.proto.
//
// Strings (names, units, attribute keys and string values) alias b, which
// outlives the decoded request, and the attributes of all points share one
// arena: decoding allocates per metric, not per point.
func decodeOTLPProto(b []byte) ([]otlpResourceMetrics, error) {
	var out []otlpResourceMetrics
	d := &otlpDecoder{}
	err := pbEach(b, func(f pbField) error {
		if f.num != 1 { // resource_metrics
			return nil
		}
		var rm otlpResourceMetrics
		if err := f.wantType(protowire.BytesType, "resource_metrics"); err != nil {
			return err
		}
		err := pbEach(f.bytes, func(f pbField) error {
			switch f.num {
			case 1: // resource
				if err := f.wantType(protowire.BytesType, "resource"); err != nil {
					return err
				}
				return pbEach(f.bytes, func(f pbField) error {
					if f.num == 1 { // attributes
						a, err := decodeKeyValue(f)
						rm.resource = append(rm.resource, a)
						return err
					}
					return nil
				})
			case 2: // scope_metrics
				if err := f.wantType(protowire.BytesType, "scope_metrics"); err != nil {
					return err
				}
				return pbEach(f.bytes, func(f pbField) error {
					if f.num != 2 { // metrics; the scope (1) is not stored
						return nil
					}
					m, err := d.decodeMetric(f)
					if err != nil {
						return fmt.Errorf("metric %s: %w", quoteTrunc(m.name), err)
					}
					rm.metrics = append(rm.metrics, m)
					return nil
				})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("resource_metrics[%d]: %w", len(out), err)
		}
		out = append(out, rm)
		return nil
	})
	return out, err
}

// pbEach calls fn for every field of message b.
func pbEach(b []byte, fn func(pbField) error) error {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// otlpDecoder holds what decoding one request shares: the arena the points'
// attributes are slices of. A full arena is replaced, never overwritten,
// so earlier points keep theirs.
type otlpDecoder struct {
	attrs []otlpAttr
}

func (d *otlpDecoder) decodeMetric(f pbField) (otlpMetric, error) {
	var m otlpMetric
	if err := f.wantType(protowire.BytesType, "metric"); err != nil {
		return m, err
	}
	err := pbEach(f.bytes, func(f pbField) error {
		switch f.num {
		case 1:
			m.name = bodyString(f.bytes)
		case 3:
			m.unit = bodyString(f.bytes)
		case 5, 7, 9, 10, 11:
			if err := f.wantType(protowire.BytesType, "data"); err != nil {
				return err
			}
			m.kind = map[protowire.Number]otlpKind{5: otlpGauge, 7: otlpSum, 9: otlpHistogram, 10: otlpExpHistogram, 11: otlpSummary}[f.num]
			return pbEach(f.bytes, func(df pbField) error {
				switch {
				case df.num == 1 && m.kind != otlpExpHistogram:
					p, err := d.decodePoint(df, m.kind)
					m.points = append(m.points, p)
					return err
				case df.num == 1:
					m.points = append(m.points, otlpPoint{}) // counted, then rejected
				case df.num == 2 && m.kind != otlpGauge && m.kind != otlpSummary:
					m.temporality = int(df.u)
				case df.num == 3 && m.kind == otlpSum:
					m.monotonic = df.u != 0
				}
				return nil
			})
		}
		return nil
	})
	return m, err
}

// decodePoint reads a NumberDataPoint, HistogramDataPoint or
// SummaryDataPoint, whose field numbers differ by kind.
func (d *otlpDecoder) decodePoint(f pbField, kind otlpKind) (p otlpPoint, _ error) {
	if err := f.wantType(protowire.BytesType, "data_points"); err != nil {
		return p, err
	}
	attrField, flagsField := protowire.Number(7), protowire.Number(8)
	if kind == otlpHistogram {
		attrField, flagsField = 9, 10
	}
	start := len(d.attrs)
	defer func() { // the attributes read, also on error
		if len(d.attrs) > start {
			p.attrs = d.attrs[start:len(d.attrs):len(d.attrs)]
		}
	}()
	for b := f.bytes; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return p, err
		}
		b = rest
		switch {
		case f.num == attrField:
			if len(d.attrs) == cap(d.attrs) {
				// A new array for the rest of the request: the points
				// decoded so far keep slices of the old one.
				grown := make([]otlpAttr, len(d.attrs)-start, max(64, 2*cap(d.attrs)))
				copy(grown, d.attrs[start:])
				d.attrs, start = grown, 0
			}
			a, err := decodeKeyValue(f)
			d.attrs = append(d.attrs, a)
			if err != nil {
				return p, err
			}
		case f.num == flagsField:
			p.flags = uint32(f.u)
		case f.num == 3:
			p.timeNano = f.u
		case kind == otlpGauge || kind == otlpSum:
			switch f.num {
			case 4: // as_double
				p.value = f.float64()
			case 6: // as_int (sfixed64)
				p.value = float64(int64(f.u))
			}
		case f.num == 4:
			p.count = f.u
		case f.num == 5:
			p.sum, p.hasSum = f.float64(), true
		case kind == otlpHistogram && f.num == 6:
			if err := f.packedFixed64(func(v uint64) { p.buckets = append(p.buckets, v) }); err != nil {
				return p, err
			}
		case kind == otlpHistogram && f.num == 7:
			if err := f.packedFixed64(func(v uint64) { p.bounds = append(p.bounds, math.Float64frombits(v)) }); err != nil {
				return p, err
			}
		case kind == otlpSummary && f.num == 6:
			var q otlpQuantile
			err := pbEach(f.bytes, func(f pbField) error {
				switch f.num {
				case 1:
					q.q = f.float64()
				case 2:
					q.v = f.float64()
				}
				return nil
			})
			p.quantiles = append(p.quantiles, q)
			if err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// decodeKeyValue reads a KeyValue; the value is rendered as a string the
// way Prometheus renders attribute values. Keys and string values alias
// the body.
func decodeKeyValue(f pbField) (otlpAttr, error) {
	var a otlpAttr
	if err := f.wantType(protowire.BytesType, "attribute"); err != nil {
		return a, err
	}
	for b := f.bytes; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return a, err
		}
		b = rest
		switch f.num {
		case 1:
			a.key = bodyString(f.bytes)
		case 2:
			if s, ok := anyValueString(f.bytes); ok {
				a.value = s
				continue
			}
			v, err := decodeAnyValue(f.bytes, 0)
			a.value = anyString(v)
			if err != nil {
				return a, err
			}
		}
	}
	return a, nil
}

// anyValueString reads an AnyValue that is one string_value, the common
// case, without boxing it; ok is false for anything else.
func anyValueString(b []byte) (string, bool) {
	f, rest, err := nextField(b)
	if err != nil || len(rest) != 0 || f.num != 1 || f.typ != protowire.BytesType {
		return "", false
	}
	return bodyString(f.bytes), true
}

// maxAnyDepth bounds nested arrays and maps in attribute values.
const maxAnyDepth = 16

// decodeAnyValue reads an AnyValue into a Go value: string, bool, int64,
// float64, []byte, []any or map[string]any.
func decodeAnyValue(b []byte, depth int) (any, error) {
	if depth > maxAnyDepth {
		return nil, fmt.Errorf("attribute value nested deeper than %d", maxAnyDepth)
	}
	var v any
	err := pbEach(b, func(f pbField) error {
		switch f.num {
		case 1:
			v = string(f.bytes)
		case 2:
			v = f.u != 0
		case 3:
			v = int64(f.u)
		case 4:
			v = f.float64()
		case 5, 6:
			if err := f.wantType(protowire.BytesType, "array/kvlist"); err != nil {
				return err
			}
			var arr []any
			kv := map[string]any{}
			err := pbEach(f.bytes, func(e pbField) error {
				if e.num != 1 {
					return nil
				}
				if f.num == 5 {
					x, err := decodeAnyValue(e.bytes, depth+1)
					arr = append(arr, x)
					return err
				}
				var key string
				var val any
				err := pbEach(e.bytes, func(k pbField) error {
					var err error
					switch k.num {
					case 1:
						key = string(k.bytes)
					case 2:
						val, err = decodeAnyValue(k.bytes, depth+1)
					}
					return err
				})
				kv[key] = val
				return err
			})
			if f.num == 5 {
				v = arr
			} else {
				v = kv
			}
			return err
		case 7:
			v = append([]byte(nil), f.bytes...)
		}
		return nil
	})
	return v, err
}

// anyString renders an attribute value as a label value: strings as they
// are, numbers and booleans as Go formats them, bytes in base64, and arrays
// and maps as JSON.
func anyString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	b, err := json.Marshal(jsonSafe(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// jsonSafe replaces values encoding/json cannot encode (NaN, Inf).
func jsonSafe(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case []any:
		for i := range x {
			x[i] = jsonSafe(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonSafe(x[k])
		}
	}
	return v
}

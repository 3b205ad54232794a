package query

import (
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// Value is a query result: Vector, Matrix, Scalar or String.
type Value interface {
	// Type returns the PromQL type name the API reports as resultType.
	Type() parser.ValueType
}

// FPoint is one float value of a series at a time in milliseconds.
type FPoint struct {
	T int64
	F float64
}

// Series is a labelled series of points in increasing time order.
type Series struct {
	Metric model.Labels
	Floats []FPoint
}

// Matrix is a list of series: the result of a range query, or of an instant
// query for a range vector.
type Matrix []Series

// Type implements Value.
func (Matrix) Type() parser.ValueType { return parser.ValueTypeMatrix }

// Sample is one labelled value at one time.
type Sample struct {
	Metric model.Labels
	T      int64
	F      float64
}

// Vector is the result of an instant query for an instant vector.
type Vector []Sample

// Type implements Value.
func (Vector) Type() parser.ValueType { return parser.ValueTypeVector }

// Scalar is a single value with no labels.
type Scalar struct {
	T int64
	V float64
}

// Type implements Value.
func (Scalar) Type() parser.ValueType { return parser.ValueTypeScalar }

// String is a string literal result.
type String struct {
	T int64
	V string
}

// Type implements Value.
func (String) Type() parser.ValueType { return parser.ValueTypeString }

package ingest

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the limits and rules of the ingest handlers. Start from
// DefaultConfig and change fields; cmd/ maps flags into it, and NewHandler
// expects a Config that passed Validate.
type Config struct {
	// MaxBodyBytes limits a request body as sent (compressed); larger
	// requests are answered 413 before they are decoded.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxDecompressedBytes limits a body after Content-Encoding is undone.
	// It is what protects against decompression bombs: a snappy block's
	// declared length is checked before decoding, and gzip/zstd streams are
	// read through a limit.
	MaxDecompressedBytes int64 `yaml:"max_decompressed_bytes"`
	// BatchSeries is how many series one Append call carries. Smaller
	// batches bound memory per request; larger ones amortise the store's
	// per-call costs. 1000 costs no measurable CPU against 5000 (one
	// request of 5000 series is four calls) and keeps each in-flight
	// request's label and sample buffers near 0.4 MB instead of 2 MB.
	BatchSeries int `yaml:"batch_series"`
	// MaxSeriesPerRequest caps the series of one request; decoding stops
	// there and the rest of the request is reported as rejected. Zero means
	// no limit.
	MaxSeriesPerRequest int `yaml:"max_series_per_request"`
	// MaxLabelsPerSeries caps the labels of one series, metric name
	// included.
	MaxLabelsPerSeries int `yaml:"max_labels_per_series"`
	// MaxLabelNameLength and MaxLabelValueLength cap label names and values
	// in bytes.
	MaxLabelNameLength  int `yaml:"max_label_name_length"`
	MaxLabelValueLength int `yaml:"max_label_value_length"`
	// MaxSampleAge rejects samples older than now minus this; zero disables
	// the check. The store has its own (sealed window, retention) limits;
	// this one answers early with a clear message.
	MaxSampleAge time.Duration `yaml:"max_sample_age"`
	// MaxSampleFuture rejects samples more than this ahead of now; zero
	// disables the check. It catches clients that send seconds or
	// nanoseconds where milliseconds are expected.
	MaxSampleFuture time.Duration `yaml:"max_sample_future"`
	// LegacyNameValidation restricts metric names to
	// [a-zA-Z_:][a-zA-Z0-9_:]* and label names to [a-zA-Z_][a-zA-Z0-9_]*.
	// By default any valid UTF-8 name is accepted, as in Prometheus 3.
	LegacyNameValidation bool `yaml:"legacy_name_validation"`
	// MaxErrorsReported caps how many rejected rows a response details;
	// the count covers all of them.
	MaxErrorsReported int `yaml:"max_errors_reported"`

	// Atlas holds the validation rules of the Atlas publish endpoint.
	Atlas AtlasRules `yaml:"atlas"`
	// OTLP holds the translation choices of the OTLP endpoint.
	OTLP OTLPConfig `yaml:"otlp"`
}

// AtlasRules are Atlas' publish validation rules (Netflix Atlas'
// KeyLengthRule, NameValueLengthRule, ValidCharactersRule and
// MaxUserTagsRule), with Atlas' defaults. They apply to the merged tags of
// each metric (common tags overridden by the metric's own).
type AtlasRules struct {
	// MinKeyLength and MaxKeyLength bound tag keys.
	MinKeyLength int `yaml:"min_key_length"`
	MaxKeyLength int `yaml:"max_key_length"`
	// MinNameLength and MaxNameLength bound the value of the name tag.
	MinNameLength int `yaml:"min_name_length"`
	MaxNameLength int `yaml:"max_name_length"`
	// MinValueLength and MaxValueLength bound other tag values.
	MinValueLength int `yaml:"min_value_length"`
	MaxValueLength int `yaml:"max_value_length"`
	// AllowedChars lists the characters allowed in keys and values; a
	// range is written as in a regexp character class (a-z).
	AllowedChars string `yaml:"allowed_chars"`
	// MaxUserTags caps the tags whose keys are not in Atlas' reserved
	// namespaces (atlas. and nf.).
	MaxUserTags int `yaml:"max_user_tags"`
}

// OTLPConfig holds how OTLP resources and names are translated.
type OTLPConfig struct {
	// PromoteResourceAttributes lists resource attributes copied onto every
	// series of the resource (besides service.name -> job and
	// service.instance.id -> instance, which always are).
	PromoteResourceAttributes []string `yaml:"promote_resource_attributes"`
	// DisableTargetInfo stops the target_info series that carries the
	// remaining resource attributes, one per resource, as Prometheus does.
	DisableTargetInfo bool `yaml:"disable_target_info"`
	// KeepNames stores metric and attribute names as sent (UTF-8, dots
	// kept, no unit or _total suffix) instead of translating them the way
	// Prometheus does by default.
	KeepNames bool `yaml:"keep_names"`
}

// DefaultConfig returns the defaults: 16 MiB bodies, 64 MiB decompressed,
// 5000 series per Append, 64 labels of at most 1 KiB names and 4 KiB values,
// samples within 24h in the past and 10m in the future, and Atlas' own
// publish rules.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:         16 << 20,
		MaxDecompressedBytes: 64 << 20,
		BatchSeries:          1000,
		MaxSeriesPerRequest:  0,
		MaxLabelsPerSeries:   64,
		MaxLabelNameLength:   1024,
		MaxLabelValueLength:  4096,
		MaxSampleAge:         24 * time.Hour,
		MaxSampleFuture:      10 * time.Minute,
		MaxErrorsReported:    10,
		Atlas: AtlasRules{
			MinKeyLength:   2,
			MaxKeyLength:   60,
			MinNameLength:  2,
			MaxNameLength:  255,
			MinValueLength: 1,
			MaxValueLength: 120,
			AllowedChars:   "-._A-Za-z0-9^~",
			MaxUserTags:    20,
		},
	}
}

// Validate reports the first field that makes the configuration unusable.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.MaxBodyBytes > 0, "ingest: MaxBodyBytes must be positive, got %d", c.MaxBodyBytes)
	check(c.MaxDecompressedBytes > 0, "ingest: MaxDecompressedBytes must be positive, got %d", c.MaxDecompressedBytes)
	check(c.BatchSeries > 0, "ingest: BatchSeries must be positive, got %d", c.BatchSeries)
	check(c.MaxSeriesPerRequest >= 0, "ingest: MaxSeriesPerRequest must not be negative, got %d", c.MaxSeriesPerRequest)
	check(c.MaxLabelsPerSeries > 0, "ingest: MaxLabelsPerSeries must be positive, got %d", c.MaxLabelsPerSeries)
	check(c.MaxLabelNameLength > 0, "ingest: MaxLabelNameLength must be positive, got %d", c.MaxLabelNameLength)
	check(c.MaxLabelValueLength > 0, "ingest: MaxLabelValueLength must be positive, got %d", c.MaxLabelValueLength)
	check(c.MaxSampleAge >= 0, "ingest: MaxSampleAge must not be negative, got %v", c.MaxSampleAge)
	check(c.MaxSampleFuture >= 0, "ingest: MaxSampleFuture must not be negative, got %v", c.MaxSampleFuture)
	check(c.MaxErrorsReported > 0, "ingest: MaxErrorsReported must be positive, got %d", c.MaxErrorsReported)
	a := c.Atlas
	check(a.MinKeyLength >= 1 && a.MinKeyLength <= a.MaxKeyLength, "ingest: Atlas key length bounds [%d, %d] are not a valid range starting at 1 or more", a.MinKeyLength, a.MaxKeyLength)
	check(a.MinNameLength >= 1 && a.MinNameLength <= a.MaxNameLength, "ingest: Atlas name length bounds [%d, %d] are not a valid range starting at 1 or more", a.MinNameLength, a.MaxNameLength)
	check(a.MinValueLength >= 1 && a.MinValueLength <= a.MaxValueLength, "ingest: Atlas value length bounds [%d, %d] are not a valid range starting at 1 or more", a.MinValueLength, a.MaxValueLength)
	check(a.MaxUserTags > 0, "ingest: Atlas MaxUserTags must be positive, got %d", a.MaxUserTags)
	if _, err := parseCharClass(a.AllowedChars); err != nil {
		errs = append(errs, fmt.Errorf("ingest: Atlas AllowedChars: %w", err))
	}
	return errors.Join(errs...)
}

// parseCharClass turns "-._A-Za-z0-9^~" into a lookup table. A '-' is a
// range only between two characters; leading or trailing it is literal.
// Only ASCII is allowed, which is all Atlas allows.
func parseCharClass(s string) (*[256]bool, error) {
	if s == "" {
		return nil, errors.New("empty character set")
	}
	var t [256]bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, fmt.Errorf("non-ASCII character at byte %d of %q", i, s)
		}
		if i+2 < len(s) && s[i+1] == '-' {
			hi := s[i+2]
			if hi < c || hi >= 0x80 {
				return nil, fmt.Errorf("bad range %q in %q", s[i:i+3], s)
			}
			for x := int(c); x <= int(hi); x++ {
				t[x] = true
			}
			i += 2
			continue
		}
		t[c] = true
	}
	return &t, nil
}

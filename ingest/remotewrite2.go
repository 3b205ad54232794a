package ingest

import (
	"fmt"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/stratus-metrics/stratus/model"
)

// Response headers of remote write 2.0: what the receiver stored, so that a
// sender can tell a partial write from a full one.
const (
	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// setRW2Headers reports what was written. Histograms and exemplars are
// never stored (native histograms are rejected, exemplars skipped), so
// those headers are always 0.
func setRW2Headers(w http.ResponseWriter, r *request) {
	h := w.Header()
	h.Set(headerSamplesWritten, strconv.Itoa(r.accepted))
	h.Set(headerHistogramsWritten, "0")
	h.Set(headerExemplarsWritten, "0")
}

// decodeRemoteWriteV2 reads an io.prometheus.write.v2.Request:
//
//	Request    { repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
//	TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2;
//	             repeated Histogram histograms = 3; repeated Exemplar exemplars = 4;
//	             Metadata metadata = 5; }
//	Sample     { double value = 1; int64 timestamp = 2; int64 start_timestamp = 3; }
//
// labels_refs are pairs of indexes into symbols (name, value). Symbols are
// read in a first pass over the top-level fields, so that their order in
// the message does not matter; the strings alias the body (see bodyString).
func (r *request) decodeRemoteWriteV2(buf []byte) error {
	s := bodyString(buf)
	syms := r.symbols[:0]
	// Labels are proved valid UTF-8 per series unless every symbol is
	// ASCII, which is checked here once instead of once per use.
	r.symbolsASCII = true
	for b := buf; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return fmt.Errorf("after symbols[%d]: %w", len(syms), err)
		}
		b = rest
		if f.num == 4 {
			if err := f.wantType(protowire.BytesType, "symbols"); err != nil {
				return err
			}
			syms = append(syms, strIn(s, buf, f.bytes))
			r.symbolsASCII = r.symbolsASCII && isASCII(f.bytes)
		}
	}
	r.symbols = syms
	if len(syms) > 0 && syms[0] != "" {
		return fmt.Errorf("symbols[0] is %s, the spec requires the empty string", quoteTrunc(syms[0]))
	}
	i := 0
	for b := buf; len(b) > 0; {
		f, rest, _ := nextField(b) // The first pass checked the framing.
		b = rest
		if f.num != 5 {
			continue
		}
		if err := f.wantType(protowire.BytesType, "timeseries"); err != nil {
			return err
		}
		if err := r.decodeRW2Series(syms, f.bytes, i); err != nil {
			return fmt.Errorf("timeseries[%d]: %w", i, err)
		}
		i++
		if r.stopDecoding {
			return nil
		}
	}
	return nil
}

func (r *request) decodeRW2Series(syms []string, b []byte, row int) error {
	r.startSeries()
	histograms := 0
	var refErr error
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			r.abortSeries()
			return err
		}
		b = rest
		switch f.num {
		case 1:
			pending := -1
			err := f.packedVarints(func(v uint64) error {
				if v >= uint64(len(syms)) {
					if refErr == nil {
						refErr = fmt.Errorf("labels_refs holds %d, but there are only %d symbols", v, len(syms))
					}
					return nil // The series is rejected; its labels do not matter.
				}
				if pending < 0 {
					pending = int(v)
				} else {
					r.addLabel(syms[pending], syms[v])
					pending = -1
				}
				return nil
			})
			if err != nil {
				r.abortSeries()
				return err
			}
			if pending >= 0 && refErr == nil {
				refErr = fmt.Errorf("labels_refs has an odd number of entries; a name ref has no value ref")
			}
		case 2:
			if err := f.wantType(protowire.BytesType, "samples"); err != nil {
				r.abortSeries()
				return err
			}
			var t int64
			var v float64
			for sb := f.bytes; len(sb) > 0; {
				sf, srest, err := nextField(sb)
				if err != nil {
					r.abortSeries()
					return fmt.Errorf("sample: %w", err)
				}
				sb = srest
				switch sf.num {
				case 1:
					if err := sf.wantType(protowire.Fixed64Type, "sample value"); err != nil {
						r.abortSeries()
						return err
					}
					v = sf.float64()
				case 2:
					if err := sf.wantType(protowire.VarintType, "sample timestamp"); err != nil {
						r.abortSeries()
						return err
					}
					t = int64(sf.u)
				}
			}
			r.addSample(t, v)
		case 3:
			histograms++
		}
	}
	switch {
	case refErr != nil:
		r.rejectSeries(row, reasonInvalidLabels, refErr)
	case histograms > 0:
		r.rejectSeries(row, reasonUnsupported, errNativeHistogram)
	case r.seriesSamples() == 0:
		r.abortSeries()
	default:
		if r.useRefs {
			r.keyRW2Series()
		}
		r.labelsASCII = r.symbolsASCII
		r.finishSeries(row)
	}
	return nil
}

// keyRW2Series sets the reference cache key of the series being built.
// Remote write 2.0 names labels by indexes into a symbol table that each
// request builds anew, so the key hashes the label strings themselves, in
// the order sent, behind a 0xff byte: remote write 1.0 keys hash label
// message bytes, which start with a field tag, never 0xff, so the two
// kinds of keys cannot name the same bytes.
func (r *request) keyRW2Series() {
	b := append(r.scratch[:0], 0xff)
	b = model.AppendKey(b, r.labels[r.labelStart:])
	r.scratch = b
	r.seriesKey, r.seriesKeyOK = r.h.refs.key(b), true
}

package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"
)

// Content types of remote write requests. A bare application/x-protobuf
// is 1.0, as the 1.0 spec sends it.
const (
	protoRW1 = "prometheus.WriteRequest"
	protoRW2 = "io.prometheus.write.v2.Request"
)

// serveRemoteWrite handles POST /api/v1/write: Prometheus remote write 1.0
// (prometheus.WriteRequest) or 2.0 (io.prometheus.write.v2.Request),
// chosen by the proto parameter of Content-Type, in a snappy block.
//
// Status codes follow the remote write spec: 204 when everything was
// stored; 400 when rows were rejected (the body lists them; the good rows
// are stored, and Prometheus does not retry a 400); 413 for a body over
// the limits; 415 for an unknown proto or encoding; 429 when the store's
// active-series limit is reached and 503 when it failed (both retried).
func (h *Handler) serveRemoteWrite(w http.ResponseWriter, hr *http.Request, r *request) int {
	mt, params := mediaType(hr)
	proto := protoRW1
	if mt != "" && mt != "application/x-protobuf" {
		return writeText(w, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Type %q; remote write sends application/x-protobuf", hr.Header.Get("Content-Type")))
	}
	if p := params["proto"]; p != "" {
		proto = p
	}
	switch proto {
	case protoRW1:
	case protoRW2:
		r.format = formatRemoteWriteV2
	default:
		return writeText(w, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported remote write proto %q; accepted are %s and %s", proto, protoRW1, protoRW2))
	}
	body, herr := r.readBody(hr, encSnappy, encSnappy)
	if herr != nil {
		if r.format == formatRemoteWriteV2 {
			setRW2Headers(w, r)
		}
		return writeText(w, herr.status, herr.msg)
	}
	var err error
	r.useRefs = h.refs != nil
	if r.format == formatRemoteWriteV2 {
		err = r.decodeRemoteWriteV2(body)
	} else {
		err = r.decodeRemoteWrite(body)
	}
	r.flush()
	if r.format == formatRemoteWriteV2 {
		setRW2Headers(w, r)
	}
	return r.respondRemoteWrite(w, err)
}

// respondRemoteWrite answers a decoded remote write request. A decode
// error (err) is reported after the rows stored before it.
func (r *request) respondRemoteWrite(w http.ResponseWriter, err error) int {
	switch r.outcome() {
	case outcomeStorage:
		return writeText(w, http.StatusServiceUnavailable, r.storageMessage())
	case outcomeSeriesLimit:
		return writeText(w, http.StatusTooManyRequests, r.seriesLimitMessage())
	}
	if err != nil {
		msg := fmt.Sprintf("decode remote write request: %v", err)
		if r.nErrs > 0 {
			msg += "\n" + r.summary()
		}
		return writeText(w, http.StatusBadRequest, msg)
	}
	if r.nErrs > 0 {
		return writeText(w, http.StatusBadRequest, fmt.Sprintf("%d samples stored, %d rejected:\n%s", r.accepted, r.rejected, r.summary()))
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

var errNativeHistogram = errors.New("native histograms are not supported; send classic histograms (_bucket/_sum/_count series) instead")

// decodeRemoteWrite reads a prometheus.WriteRequest:
//
//	WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//	TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
//	               repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//	Label        { string name = 1; string value = 2; }
//	Sample       { double value = 1; int64 timestamp = 2; }
//
// Metadata and exemplars are skipped; a series with native histograms is
// rejected. Label strings alias buf (see bodyString), which r owns until
// it is released.
func (r *request) decodeRemoteWrite(buf []byte) error {
	s := bodyString(buf)
	b := buf
	for i := 0; len(b) > 0; {
		// The common case is read inline; anything else goes through
		// nextField, which also words the errors.
		var msg, rest []byte
		ok := false
		if b[0] == tagRW1Series {
			msg, rest, ok = fastBytes(b[1:])
		}
		if !ok {
			f, frest, err := nextField(b)
			if err != nil {
				return fmt.Errorf("after timeseries[%d]: %w", i, err)
			}
			if f.num != 1 {
				b = frest
				continue // metadata (3) and unknown fields
			}
			if err := f.wantType(protowire.BytesType, "timeseries"); err != nil {
				return err
			}
			msg, rest = f.bytes, frest
		}
		b = rest
		if err := r.decodeRW1Series(s, buf, msg, i); err != nil {
			return fmt.Errorf("timeseries[%d]: %w", i, err)
		}
		i++
		if r.stopDecoding {
			return nil
		}
	}
	return nil
}

// One-byte tags (field number << 3 | wire type) of the remote write 1.0
// messages as senders lay them out.
const (
	tagRW1Series     = 1<<3 | byte(protowire.BytesType)   // WriteRequest.timeseries
	tagRW1Labels     = 1<<3 | byte(protowire.BytesType)   // TimeSeries.labels
	tagRW1Samples    = 2<<3 | byte(protowire.BytesType)   // TimeSeries.samples
	tagRW1Exemplars  = 3<<3 | byte(protowire.BytesType)   // TimeSeries.exemplars
	tagRW1Histograms = 4<<3 | byte(protowire.BytesType)   // TimeSeries.histograms
	tagLabelName     = 1<<3 | byte(protowire.BytesType)   // Label.name
	tagLabelValue    = 2<<3 | byte(protowire.BytesType)   // Label.value
	tagSampleValue   = 1<<3 | byte(protowire.Fixed64Type) // Sample.value
	tagSampleTime    = 2<<3 | byte(protowire.VarintType)  // Sample.timestamp
)

// decodeRW1Series reads one TimeSeries message. A malformed message is
// returned as an error; a well-formed but invalid series is rejected and
// reported, and decoding goes on.
func (r *request) decodeRW1Series(s string, base, b []byte, row int) error {
	r.startSeries()
	histograms, ok := r.readRW1SeriesFast(s, base, b)
	if !ok {
		r.abortSeries()
		var err error
		if histograms, err = r.readRW1Series(s, base, b); err != nil {
			r.abortSeries()
			return err
		}
	}
	if histograms > 0 {
		r.rejectSeries(row, reasonUnsupported, errNativeHistogram)
		return nil
	}
	if r.seriesSamples() == 0 {
		// Nothing to store; Prometheus sends such series only with
		// exemplars or metadata, which we skip.
		r.abortSeries()
		return nil
	}
	r.finishSeries(row)
	return nil
}

// readRW1SeriesFast adds the labels and samples of a TimeSeries message
// laid out the way Prometheus, vmagent and other protobuf encoders write
// it: fields in one-byte tags, a label's name before its value, a sample's
// value before its timestamp, each at most once, zero values omitted. It
// returns the number of histograms, and false for any other layout (valid
// or not); the caller then drops what was added and reads the message with
// readRW1Series. Both read a message they accept to the same series, which
// TestRW1FastPathAgrees checks; this one does it without a call per field,
// which made field reading a fifth of ingest's CPU time.
//
// It also sets r.labelsASCII when the labels come first and their bytes,
// framing included, are all ASCII, which proves every label string valid
// UTF-8 in one pass over the bytes instead of a check per string.
func (r *request) readRW1SeriesFast(s string, base, b []byte) (histograms int, ok bool) {
	msg := b
	labelsEnd := 0      // end of the leading run of label fields in msg
	labelsLate := false // a label field after another field
	for len(b) > 0 {
		tag := b[0]
		m, rest, ok := fastBytes(b[1:])
		if !ok {
			return 0, false
		}
		if tag == tagRW1Labels {
			if labelsEnd == len(msg)-len(b) {
				labelsEnd = len(msg) - len(rest)
			} else {
				labelsLate = true
			}
		}
		b = rest
		switch tag {
		case tagRW1Labels:
			var name, value string
			if len(m) > 0 && m[0] == tagLabelName {
				v, rest, ok := fastBytes(m[1:])
				if !ok {
					return 0, false
				}
				name, m = strIn(s, base, v), rest
			}
			if len(m) > 0 && m[0] == tagLabelValue {
				v, rest, ok := fastBytes(m[1:])
				if !ok {
					return 0, false
				}
				value, m = strIn(s, base, v), rest
			}
			if len(m) != 0 {
				return 0, false
			}
			r.addLabel(name, value)
		case tagRW1Samples:
			var t int64
			var v float64
			if len(m) >= 9 && m[0] == tagSampleValue {
				v = math.Float64frombits(binary.LittleEndian.Uint64(m[1:9]))
				m = m[9:]
			}
			if len(m) > 0 && m[0] == tagSampleTime {
				u, n := protowire.ConsumeVarint(m[1:])
				if n < 0 {
					return 0, false
				}
				t, m = int64(u), m[1+n:]
			}
			if len(m) != 0 {
				return 0, false
			}
			r.addSample(t, v)
		case tagRW1Exemplars:
		case tagRW1Histograms:
			histograms++
		default:
			return 0, false
		}
	}
	r.labelsASCII = !labelsLate && isASCII(msg[:labelsEnd])
	if r.useRefs && !labelsLate && labelsEnd > 0 {
		r.seriesKey, r.seriesKeyOK = r.h.refs.key(msg[:labelsEnd]), true
	}
	return histograms, true
}

// isASCII reports whether every byte of b is below 0x80.
func isASCII(b []byte) bool {
	var acc uint64
	for len(b) >= 8 {
		acc |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&0x8080808080808080 == 0
}

// fastBytes reads the length prefix at the start of b and returns the
// bytes it covers and the rest of b, or false when b is too short or the
// length malformed.
func fastBytes(b []byte) (v, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	n, w := uint64(b[0]), 1
	if n >= 0x80 {
		if n, w = protowire.ConsumeVarint(b); w < 0 {
			return nil, nil, false
		}
	}
	if n > uint64(len(b)-w) {
		return nil, nil, false
	}
	end := w + int(n)
	return b[w:end], b[end:], true
}

// readRW1Series adds the labels and samples of any well-formed TimeSeries
// message and returns its number of histograms; it returns an error for a
// malformed message, leaving the caller to drop what was added.
func (r *request) readRW1Series(s string, base, b []byte) (histograms int, err error) {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return 0, err
		}
		b = rest
		switch f.num {
		case 1:
			if err := f.wantType(protowire.BytesType, "labels"); err != nil {
				return 0, err
			}
			var name, value string
			lb := f.bytes
			for len(lb) > 0 {
				lf, lrest, err := nextField(lb)
				if err != nil {
					return 0, fmt.Errorf("label: %w", err)
				}
				lb = lrest
				switch lf.num {
				case 1, 2:
					if err := lf.wantType(protowire.BytesType, "label name/value"); err != nil {
						return 0, err
					}
					if lf.num == 1 {
						name = strIn(s, base, lf.bytes)
					} else {
						value = strIn(s, base, lf.bytes)
					}
				}
			}
			r.addLabel(name, value)
		case 2:
			if err := f.wantType(protowire.BytesType, "samples"); err != nil {
				return 0, err
			}
			var t int64
			var v float64
			sb := f.bytes
			for len(sb) > 0 {
				sf, srest, err := nextField(sb)
				if err != nil {
					return 0, fmt.Errorf("sample: %w", err)
				}
				sb = srest
				switch sf.num {
				case 1:
					if err := sf.wantType(protowire.Fixed64Type, "sample value"); err != nil {
						return 0, err
					}
					v = sf.float64()
				case 2:
					if err := sf.wantType(protowire.VarintType, "sample timestamp"); err != nil {
						return 0, err
					}
					t = int64(sf.u)
				}
			}
			r.addSample(t, v)
		case 4:
			histograms++
		}
	}
	return histograms, nil
}

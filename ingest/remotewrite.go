package ingest

import (
	"errors"
	"fmt"
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
// rejected. Label strings alias one string made of the body.
func (r *request) decodeRemoteWrite(buf []byte) error {
	s := string(buf) // One copy per request; every label string slices it.
	b := buf
	for i := 0; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return fmt.Errorf("after timeseries[%d]: %w", i, err)
		}
		b = rest
		if f.num != 1 {
			continue // metadata (3) and unknown fields
		}
		if err := f.wantType(protowire.BytesType, "timeseries"); err != nil {
			return err
		}
		if err := r.decodeRW1Series(s, buf, f.bytes, i); err != nil {
			return fmt.Errorf("timeseries[%d]: %w", i, err)
		}
		i++
		if r.stopDecoding {
			return nil
		}
	}
	return nil
}

// decodeRW1Series reads one TimeSeries message. A malformed message is
// returned as an error; a well-formed but invalid series is rejected and
// reported, and decoding goes on.
func (r *request) decodeRW1Series(s string, base, b []byte, row int) error {
	r.startSeries()
	histograms := 0
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			r.abortSeries()
			return err
		}
		b = rest
		switch f.num {
		case 1:
			if err := f.wantType(protowire.BytesType, "labels"); err != nil {
				r.abortSeries()
				return err
			}
			var name, value string
			lb := f.bytes
			for len(lb) > 0 {
				lf, lrest, err := nextField(lb)
				if err != nil {
					r.abortSeries()
					return fmt.Errorf("label: %w", err)
				}
				lb = lrest
				switch lf.num {
				case 1, 2:
					if err := lf.wantType(protowire.BytesType, "label name/value"); err != nil {
						r.abortSeries()
						return err
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
				r.abortSeries()
				return err
			}
			var t int64
			var v float64
			sb := f.bytes
			for len(sb) > 0 {
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
		case 4:
			histograms++
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

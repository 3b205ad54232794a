package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// encodings is a set of Content-Encodings a format accepts.
type encodings uint8

const (
	encIdentity encodings = 1 << iota
	encGzip
	encZstd
	encSnappy // snappy block format, as remote write uses it
)

// readBody reads the request body within Config.MaxBodyBytes and undoes its
// Content-Encoding within Config.MaxDecompressedBytes. implied is the
// encoding assumed when the header is absent (remote write bodies are
// snappy whether or not the client says so). The returned slice is owned by
// r and valid until r is released.
func (r *request) readBody(hr *http.Request, allowed, implied encodings) ([]byte, *httpError) {
	cfg := &r.h.cfg
	if hr.ContentLength > cfg.MaxBodyBytes {
		return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is %d bytes, limit is %d (MaxBodyBytes)", hr.ContentLength, cfg.MaxBodyBytes)}
	}
	if hr.ContentLength > 0 && int64(cap(r.raw)) < hr.ContentLength+1 {
		r.raw = make([]byte, 0, hr.ContentLength+1)
	}
	raw, over, err := readLimited(r.raw[:0], hr.Body, cfg.MaxBodyBytes)
	r.raw = raw
	if over {
		return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes (MaxBodyBytes)", cfg.MaxBodyBytes)}
	}
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("read request body: %v", err)}
	}

	enc := implied
	switch ce := strings.ToLower(strings.TrimSpace(hr.Header.Get("Content-Encoding"))); ce {
	case "":
	case "identity":
		enc = encIdentity
	case "gzip", "x-gzip":
		enc = encGzip
	case "zstd":
		enc = encZstd
	case "snappy":
		enc = encSnappy
	default:
		return nil, &httpError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q; this endpoint accepts %s", ce, allowed)}
	}
	if allowed&enc == 0 {
		return nil, &httpError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %s is not accepted here; this endpoint accepts %s", enc, allowed)}
	}
	limit := cfg.MaxDecompressedBytes
	tooBig := func() *httpError {
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("decompressed request body exceeds %d bytes (MaxDecompressedBytes)", limit)}
	}
	switch enc {
	case encIdentity:
		return raw, nil
	case encSnappy:
		n, err := snappy.DecodedLen(raw)
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("decode snappy block body: %v", err)}
		}
		if int64(n) > limit {
			return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("snappy body declares %d decompressed bytes, limit is %d (MaxDecompressedBytes)", n, limit)}
		}
		if cap(r.dec) < n {
			r.dec = make([]byte, n)
		}
		out, err := snappy.Decode(r.dec[:n], raw)
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("decode snappy block body: %v", err)}
		}
		return out, nil
	case encGzip:
		gz, _ := r.h.gzips.Get().(*gzip.Reader)
		if gz == nil {
			gz = new(gzip.Reader)
		}
		defer r.h.gzips.Put(gz)
		if err := gz.Reset(bytes.NewReader(raw)); err != nil {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("decode gzip body: %v", err)}
		}
		dec, over, err := readLimited(r.dec[:0], gz, limit)
		r.dec = dec
		if over {
			return nil, tooBig()
		}
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("decode gzip body: %v", err)}
		}
		return dec, nil
	case encZstd:
		zd := r.h.zstds.Get().(*zstd.Decoder)
		defer r.h.zstds.Put(zd)
		if err := zd.Reset(bytes.NewReader(raw)); err != nil {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("decode zstd body: %v", err)}
		}
		dec, over, err := readLimited(r.dec[:0], zd, limit)
		r.dec = dec
		zd.Reset(nil) // drop the reference to raw
		if over {
			return nil, tooBig()
		}
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("decode zstd body: %v", err)}
		}
		return dec, nil
	}
	panic(fmt.Sprintf("BUG: unhandled encoding %d", enc))
}

func (e encodings) String() string {
	var names []string
	for _, x := range []struct {
		e    encodings
		name string
	}{{encIdentity, "identity"}, {encGzip, "gzip"}, {encZstd, "zstd"}, {encSnappy, "snappy"}} {
		if e&x.e != 0 {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ", ")
}

// readLimited appends src to dst[:0] and stops once more than limit bytes
// were read, reporting over. It never holds more than limit+1 bytes plus
// one read's worth, whatever src claims.
func readLimited(dst []byte, src io.Reader, limit int64) (out []byte, over bool, err error) {
	for {
		if len(dst) == cap(dst) {
			next := max(2*cap(dst), 4096)
			if int64(next) > limit+1 {
				next = int(limit + 1)
			}
			if next <= len(dst) {
				next = len(dst) + 1
			}
			grown := make([]byte, len(dst), next)
			copy(grown, dst)
			dst = grown
		}
		n, rerr := src.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst, true, nil
		}
		if rerr == io.EOF {
			return dst, false, nil
		}
		if rerr != nil {
			return dst, false, rerr
		}
	}
}

// mediaType returns the lower-cased media type and parameters of a
// Content-Type header; an unparsable header yields its raw value.
func mediaType(hr *http.Request) (string, map[string]string) {
	ct := hr.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct)), nil
	}
	return mt, params
}

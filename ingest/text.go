package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// serveText handles POST /api/v1/import/prometheus: the Prometheus text
// exposition format, or OpenMetrics when Content-Type says
// application/openmetrics-text. Parsing is prometheus/model/textparse's.
//
// Each line is parsed on its own, so that a bad line is reported with its
// number while the good lines around it are stored; this costs one parser
// per line, which the import path can afford (the text formats carry no
// state from line to line that changes a sample). A sample without a
// timestamp gets the receive time. Repeated ?extra_label=name=value
// parameters add labels to every series, replacing labels of that name.
// Histograms and summaries arrive as their _bucket/_sum/_count and quantile
// series and are stored as such.
//
// Answers: 204 when everything was stored; 400 naming the bad lines (the
// good ones are stored); 413/415 for the body; 429 and 503 from the store.
func (h *Handler) serveText(w http.ResponseWriter, hr *http.Request, r *request) int {
	extra, err := parseExtraLabels(hr)
	if err != nil {
		return writeText(w, http.StatusBadRequest, err.Error())
	}
	body, herr := r.readBody(hr, encIdentity|encGzip|encZstd, encIdentity)
	if herr != nil {
		return writeText(w, herr.status, herr.msg)
	}
	mt, _ := mediaType(hr)
	r.decodeText(body, mt == "application/openmetrics-text", extra)
	r.flush()
	return r.respondPlain(w)
}

// respondPlain answers with the outcome as plain text and 204 on success.
func (r *request) respondPlain(w http.ResponseWriter) int {
	switch r.outcome() {
	case outcomeOK:
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	case outcomeStorage:
		return writeText(w, http.StatusServiceUnavailable, r.storageMessage())
	case outcomeSeriesLimit:
		return writeText(w, http.StatusTooManyRequests, r.seriesLimitMessage())
	}
	return writeText(w, http.StatusBadRequest, fmt.Sprintf("%d samples stored, %d rejected:\n%s", r.accepted, r.rejected, r.summary()))
}

func parseExtraLabels(hr *http.Request) ([]labels.Label, error) {
	var extra []labels.Label
	for _, kv := range hr.URL.Query()["extra_label"] {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("extra_label %s is not of the form name=value", quoteTrunc(kv))
		}
		extra = append(extra, labels.Label{Name: name, Value: value})
	}
	return extra, nil
}

var openMetricsEOF = []byte("# EOF")

// decodeText parses body line by line; see serveText.
func (r *request) decodeText(body []byte, openMetrics bool, extra []labels.Label) {
	st := labels.NewSymbolTable()
	var lbls labels.Labels
	lineNo := 0
	for len(body) > 0 && !r.stopDecoding {
		lineNo++
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if openMetrics && bytes.Equal(line, openMetricsEOF) {
			return
		}
		buf := append(r.scratch[:0], line...)
		buf = append(buf, '\n')
		var p textparse.Parser
		if openMetrics {
			buf = append(buf, "# EOF\n"...)
			p = textparse.NewOpenMetricsParser(buf, st)
		} else {
			p = textparse.NewPromParser(buf, st, false)
		}
		r.scratch = buf
		for {
			entry, err := p.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.rejectRow(lineNo, 1, reasonParse, fmt.Errorf("%v: %s", err, quoteTrunc(string(line))))
				break
			}
			switch entry {
			case textparse.EntrySeries:
				_, ts, v := p.Series()
				p.Labels(&lbls)
				r.startSeries()
				lbls.Range(func(l labels.Label) { r.addLabel(l.Name, l.Value) })
				for _, l := range extra {
					r.setLabel(l.Name, l.Value)
				}
				t := r.nowMs
				if ts != nil {
					t = *ts
				}
				r.addSample(t, v)
				r.finishSeries(lineNo)
			case textparse.EntryHistogram:
				r.rejectRow(lineNo, 1, reasonUnsupported, errNativeHistogram)
			}
		}
	}
}

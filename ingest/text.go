package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/stratus-metrics/stratus/model"
)

// serveText handles POST /api/v1/import/prometheus: the Prometheus text
// exposition format, or OpenMetrics when Content-Type says
// application/openmetrics-text. Parsing is prometheus/model/textparse's.
//
// A bad line is reported with its number while the good lines around it
// are stored (see decodeText for how, without a parser per line). A sample
// without a timestamp gets the receive time. Repeated ?extra_label=name=value
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

// decodeText parses body; see serveText.
//
// The body is read by one parser over all of it, which allocates little
// per line. textparse returns one entry per non-blank line, so a cursor
// over the lines follows the parser and names each entry's line; a series
// entry is checked to lie on the cursor's line (the parser would let a
// quoted label value run across lines, which a line on its own cannot). A
// parser cannot go on after an error, so from an error, or a failed check,
// on, the rest of the body is parsed a line at a time, each line with the
// last TYPE line before it as its context. OpenMetrics ends at "# EOF":
// the parser stops there, and the line-by-line reading of what follows
// stops at it too; a body without it is read as if it ended with it.
// TestTextMatchesLines and FuzzTextMatchesLines hold both ways to the same
// outcome, for both formats.
func (r *request) decodeText(body []byte, openMetrics bool, extra []labels.Label) {
	st := labels.NewSymbolTable()
	if len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(append(r.textBody[:0], body...), '\n') // the parser wants a last newline
		r.textBody = body
	}
	var (
		lbls     labels.Labels
		lastType []byte // the last TYPE line: context for the lines after it
		p        textparse.Parser
	)
	if openMetrics {
		p = textparse.NewOpenMetricsParser(body, st)
	} else {
		p = textparse.NewPromParser(body, st, false)
	}
	cur := textCursor{rest: body}
	// A series is finished only once the parser has read past its line:
	// the OpenMetrics parser can return a series and then fail on the
	// rest of the same line, and such a line must be judged as a whole,
	// as the line-by-line reading judges it.
	pending := false
	typeBefore := lastType // the context of the cursor's line
	for !r.stopDecoding {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			if pending {
				r.finishSeries(cur.lineNo)
			}
			// The lexer also ends at a NUL byte: whatever follows is
			// read line by line rather than dropped.
			if len(bytes.TrimSpace(cur.rest)) > 0 {
				r.decodeTextLines(cur.rest, cur.lineNo, openMetrics, extra, st, lastType)
			}
			return
		}
		if err != nil {
			// The error is on the cursor's line or a later one: read on
			// line by line from the cursor's line, whose series, if it
			// has one, is not stored yet.
			if cur.lineNo == 0 {
				r.decodeTextLines(cur.rest, 0, openMetrics, extra, st, nil)
				return
			}
			if pending {
				r.abortSeries()
			}
			r.decodeTextLines(cur.atLine, cur.lineNo-1, openMetrics, extra, st, typeBefore)
			return
		}
		if pending {
			r.finishSeries(cur.lineNo)
			pending = false
		}
		cur.next()
		typeBefore = lastType
		if !cur.holds(p, entry) {
			r.decodeTextLines(cur.atLine, cur.lineNo-1, openMetrics, extra, st, lastType)
			return
		}
		switch entry {
		case textparse.EntrySeries:
			r.textSeries(p, &lbls, extra, true)
			pending = true
		case textparse.EntryType:
			lastType = cur.line
		case textparse.EntryHistogram:
			r.rejectRow(cur.lineNo, 1, reasonUnsupported, errNativeHistogram)
		}
	}
	if pending {
		r.abortSeries() // decoding stopped; see finishSeries
	}
}

// textCursor walks the non-blank lines of the body a parser reads.
type textCursor struct {
	atLine []byte // the body from the current line on
	line   []byte // the current line
	rest   []byte // the body after it
	lineNo int    // the current line's number
}

// next moves to the next non-blank line.
func (c *textCursor) next() {
	for len(c.rest) > 0 {
		c.lineNo++
		c.atLine, c.line = c.rest, c.rest
		if i := bytes.IndexByte(c.rest, '\n'); i >= 0 {
			c.line, c.rest = c.rest[:i], c.rest[i+1:]
		} else {
			c.rest = nil
		}
		if len(bytes.TrimSpace(c.line)) > 0 {
			return
		}
	}
}

// holds reports whether the parser's entry lies on the current line: the
// parser lets a quoted name or label value run across lines, which a line
// on its own cannot, and then the cursor would be behind.
func (c *textCursor) holds(p textparse.Parser, entry textparse.Entry) bool {
	switch entry {
	case textparse.EntrySeries:
		series, _, _ := p.Series()
		return c.onLine(series)
	case textparse.EntryType:
		name, _ := p.Type()
		return c.onLine(name)
	case textparse.EntryHelp:
		name, text := p.Help()
		return c.onLine(name) && c.onLine(text)
	case textparse.EntryUnit:
		name, unit := p.Unit()
		return c.onLine(name) && c.onLine(unit)
	case textparse.EntryComment:
		return c.onLine(p.Comment())
	}
	return false // an entry the text format does not have: go line by line
}

// onLine reports whether b lies in the memory of the current line. An
// empty b (a HELP without text) is taken to; a b the parser built
// elsewhere (unescaped text) is not, which only sends the rest of the body
// line by line.
func (c *textCursor) onLine(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if len(c.line) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(c.line)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return at >= lo && at+uintptr(len(b)) <= lo+uintptr(len(c.line))
}

// textSeries starts the series entry p is on, with the extra labels; the
// caller finishes it (finishSeries) or drops it (abortSeries). inBody
// says the parser reads the request's body itself, which outlives the
// batch, rather than a scratch copy of one line: only then may the labels
// alias the parser's bytes (see plainTextLabels).
func (r *request) textSeries(p textparse.Parser, lbls *labels.Labels, extra []labels.Label, inBody bool) {
	series, ts, v := p.Series()
	r.startSeries()
	if !inBody || !r.plainTextLabels(series) {
		p.Labels(lbls)
		lbls.Range(func(l labels.Label) { r.addLabel(l.Name, l.Value) })
	}
	for _, l := range extra {
		r.setLabel(l.Name, l.Value)
	}
	t := r.nowMs
	if ts != nil {
		t = *ts
	}
	r.addSample(t, v)
}

// plainTextLabels adds the labels of series, the bytes the parser returned
// for a series entry, when they take the plain form client libraries
// write: name{label="value",...} with unquoted names, no escapes, no
// blanks, no repeated name, and le and quantile values in their normal
// form. The strings alias series (see bodyString), so there is nothing to
// allocate and nothing to unescape; labels are sorted in place. It returns false, having added nothing, for any other form,
// and the caller asks the parser, whose Labels allocates the label set
// (two allocations per series). The parser has already accepted series,
// so this only has to slice it, never to judge it; TestTextMatchesLines
// and FuzzTextMatchesLines hold the two ways to the same labels.
func (r *request) plainTextLabels(series []byte) bool {
	name, rest := series, []byte(nil)
	if i := bytes.IndexByte(series, '{'); i >= 0 {
		if series[len(series)-1] != '}' {
			return false
		}
		name, rest = series[:i], series[i+1:len(series)-1]
	}
	s := bodyString(series)
	if !legacyMetricName(s[:len(name)]) {
		return false
	}
	r.addLabel(model.MetricName, s[:len(name)])
	for off := len(name) + 1; len(rest) > 0; {
		// legacyMetricName also lets a colon through, which the parser
		// has already refused in an unquoted label name.
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 || !legacyMetricName(s[off:off+eq]) || len(rest) < eq+2 || rest[eq+1] != '"' {
			return r.dropTextLabels()
		}
		vlen := bytes.IndexByte(rest[eq+2:], '"')
		if vlen < 0 || bytes.IndexByte(rest[eq+2:eq+2+vlen], '\\') >= 0 {
			return r.dropTextLabels()
		}
		ln, lv := s[off:off+eq], s[off+eq+2:off+eq+2+vlen]
		if (ln == "le" || ln == "quantile") && !openMetricsFloat(lv) {
			return r.dropTextLabels()
		}
		r.addLabel(ln, lv)
		n := eq + 2 + vlen + 1 // through the closing quote
		if n < len(rest) {
			if rest[n] != ',' {
				return r.dropTextLabels()
			}
			n++
		}
		rest, off = rest[n:], off+n
	}
	ls := model.Labels(r.labels[r.labelStart:])
	ls.Sort()
	for i := 1; i < len(ls); i++ {
		if ls[i].Name == ls[i-1].Name {
			return r.dropTextLabels() // the parser's order decides which is reported
		}
	}
	r.labelsASCII = isASCII(series)
	return true
}

// openMetricsFloat reports whether the parser leaves v as it is when it is
// the value of a bucket's le or a quantile: v is no number, or one written
// as OpenMetrics writes it ("+Inf", "0.5", "1.0"; not "Inf" or "1"). The
// parser rewrites such values for histograms and summaries only, and
// plainTextLabels does not know the type, so it leaves the others to it.
func openMetricsFloat(v string) bool {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return true
	}
	var buf [32]byte
	return string(labels.AppendOpenMetricsFloat(buf[:0], f)) == v
}

// dropTextLabels undoes plainTextLabels' partial work and returns false.
func (r *request) dropTextLabels() bool {
	r.labels = r.labels[:r.labelStart]
	return false
}

// decodeTextLines parses body one line at a time, each line with a parser
// of its own, so that a bad line is reported by its number (counted on
// from lineNo) and the good ones around it are stored. Each line is parsed
// after the last TYPE line before it (lastType, then the body's own), so
// that the parser treats histogram and summary series as it would in one
// pass; the TYPE entry that yields again is skipped.
func (r *request) decodeTextLines(body []byte, lineNo int, openMetrics bool, extra []labels.Label, st *labels.SymbolTable, lastType []byte) {
	var lbls labels.Labels
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
		buf := r.scratch[:0]
		if lastType != nil {
			buf = append(append(buf, lastType...), '\n')
		}
		contextEntries := len(buf) > 0
		buf = append(append(buf, line...), '\n')
		var p textparse.Parser
		if openMetrics {
			buf = append(buf, "# EOF\n"...)
			p = textparse.NewOpenMetricsParser(buf, st)
		} else {
			p = textparse.NewPromParser(buf, st, false)
		}
		r.scratch = buf
		if contextEntries {
			p.Next() // the context's TYPE entry; it parsed before
		}
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
				r.textSeries(p, &lbls, extra, false)
				r.finishSeries(lineNo)
			case textparse.EntryType:
				lastType = line
			case textparse.EntryHistogram:
				r.rejectRow(lineNo, 1, reasonUnsupported, errNativeHistogram)
			}
		}
	}
}

package ingest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
)

// Handler serves the ingest endpoints of every supported wire format. It is
// safe for concurrent use; per-request state comes from pools.
type Handler struct {
	app Appender
	// refApp is app when it is a RefAppender, and refs the series
	// references remote write uses with it (refcache.go); both nil
	// otherwise.
	refApp RefAppender
	refs   *refCache
	cfg    Config
	log    *slog.Logger
	m      *metrics
	// now is time.Now outside tests; it sets the receive time of samples
	// without a timestamp and the timestamp window.
	now func() time.Time

	atlasChars *[256]bool

	requests pool[request]
	zstds    sync.Pool // of *zstd.Decoder
	gzips    sync.Pool // of *gzip.Reader
}

// NewHandler returns a Handler that stores through app. cfg must have
// passed Validate (cmd/ checks it at startup); an invalid Config is a
// programming error. The self-metrics are registered on reg unless it is
// nil; logger may be nil to discard logs.
func NewHandler(app Appender, cfg Config, reg prometheus.Registerer, logger *slog.Logger) *Handler {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("BUG: ingest.NewHandler called with an invalid Config: %v", err))
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	chars, _ := parseCharClass(cfg.Atlas.AllowedChars) // checked by Validate
	h := &Handler{
		app:        app,
		cfg:        cfg,
		log:        logger,
		m:          newMetrics(reg),
		now:        time.Now,
		atlasChars: chars,
	}
	if ra, ok := app.(RefAppender); ok {
		h.refApp, h.refs = ra, newRefCache()
	}
	h.zstds.New = func() any {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1), // synchronous: no goroutines to leak from the pool
			zstd.WithDecoderMaxMemory(uint64(cfg.MaxDecompressedBytes)),
			zstd.WithDecoderMaxWindow(uint64(min(cfg.MaxDecompressedBytes, zstd.MaxWindowSize))))
		if err != nil {
			panic(fmt.Sprintf("BUG: zstd.NewReader with static options failed: %v", err))
		}
		return d
	}
	return h
}

// Register adds the ingest routes to r, all POST:
//
//	/api/v1/write               Prometheus remote write 1.0 and 2.0 (by Content-Type)
//	/api/v1/publish             Atlas publish
//	/api/v1/import/prometheus   Prometheus text exposition / OpenMetrics push
//	/write, /api/v2/write       Influx line protocol (v1 and v2 paths)
//	/v1/metrics                 OpenTelemetry OTLP/HTTP (protobuf and JSON)
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc("/api/v1/write", h.instrument(formatRemoteWrite, "timeseries", h.serveRemoteWrite)).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/publish", h.instrument(formatAtlas, "metrics", h.serveAtlas)).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/import/prometheus", h.instrument(formatText, "line", h.serveText)).Methods(http.MethodPost)
	r.HandleFunc("/write", h.instrument(formatInflux, "line", h.serveInflux)).Methods(http.MethodPost)
	r.HandleFunc("/api/v2/write", h.instrument(formatInflux, "line", h.serveInflux)).Methods(http.MethodPost)
	r.HandleFunc("/v1/metrics", h.instrument(formatOTLP, "metric", h.serveOTLP)).Methods(http.MethodPost)
}

// serveFunc handles one request with its pooled state and returns the
// status code it wrote.
type serveFunc func(w http.ResponseWriter, hr *http.Request, r *request) int

// instrument wraps a serveFunc with the request's pooled state, the
// self-metrics, and a recover that turns a decoder bug into a 500 and a log
// line instead of a dropped connection.
func (h *Handler) instrument(format, rowKind string, serve serveFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		start := time.Now()
		r := h.newRequest(format, rowKind)
		code := 0
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.log.Error("BUG: ingest handler panicked", "format", format, "panic", p)
				code = http.StatusInternalServerError
				http.Error(w, "internal error while decoding the request; it has been logged", code)
				h.m.observe(r, code, time.Since(start).Seconds())
				return // Do not pool state a panic may have left inconsistent.
			}
			h.m.observe(r, code, time.Since(start).Seconds())
			r.release()
		}()
		code = serve(w, hr, r)
	}
}

// httpError is a failure of the request as a whole (size, encoding, an
// undecodable body), answered before or instead of the per-row outcome.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func writeText(w http.ResponseWriter, status int, msg string) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if msg != "" {
		io.WriteString(w, msg)
		if msg[len(msg)-1] != '\n' {
			io.WriteString(w, "\n")
		}
	}
	return status
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
	return status
}

// seriesLimitMessage is the 429 text: which limit (an active series
// limit, the store's or a tenant's, or a tenant's ingest rate) and the
// first series that hit it; the store's error names the limit's value.
func (r *request) seriesLimitMessage() string {
	return fmt.Sprintf("an active series or ingest rate limit is reached, retry later; %d samples stored, %d rejected; first series refused: %s",
		r.accepted, r.rejected, r.limitMsg)
}

func (r *request) storageMessage() string {
	return fmt.Sprintf("storage failed, retry later: %v (%d samples stored before the failure)", r.storageErr, r.accepted)
}

// Package ingest owns the write side of Stratus' HTTP API: one handler per
// wire format that real clients already speak (Prometheus remote write 1.0
// and 2.0, Atlas publish, Prometheus text exposition and OpenMetrics push,
// Influx line protocol, OpenTelemetry OTLP/HTTP), the validation every
// sample passes before it is stored, the request limits that keep a hostile
// or broken client from exhausting memory, and the self-metrics that say
// what was received, stored and rejected.
//
// It knows nothing of storage: it declares the small Appender interface it
// needs, and cmd/ wires the store (*tsdb.DB) into NewHandler.
//
// # Data flow
//
// Every request takes the same path:
//
//	HTTP request
//	  -> limits: body size (413), Content-Encoding (415), decompressed size
//	     (413; checked before or while decompressing, so a small bomb can
//	     not expand past the limit)
//	  -> decoder for the format (hand-written protobuf reading with protowire
//	     for remote write and OTLP; fastjson for Atlas and encoding/json for
//	     OTLP/JSON; prometheus/model/textparse for exposition text, one
//	     parser per body, with the labels of plainly written series sliced
//	     from the bytes it accepted; a hand-written parser for Influx line
//	     protocol).
//	     Decoded strings alias the request's body or arenas until the
//	     request is done, so decoding allocates per request, not per sample
//	  -> validation of each whole series before it joins the batch (label
//	     names and values, lengths, counts, duplicate names, metric name,
//	     timestamp window); a bad row is recorded with its position and
//	     reason and never reaches the store
//	  -> batch of at most Config.BatchSeries series, whose label, sample and
//	     series slices come from one pooled arena per request
//	  -> Appender.Append, once per batch; per-sample rejections come back in
//	     model.AppendResult and are reported like decoding errors. Remote
//	     write 1.0 and 2.0 use RefAppender.AppendRefs when the store offers
//	     it, with the store's references of series it has seen, by a hash of
//	     their label bytes (refcache.go), so known series skip its lookup
//	  -> response in the format's own dialect: remote write 204/400/429/503,
//	     Atlas 200/202/400, Influx 204/400 JSON, OTLP 200 with
//	     partial_success, and so on (see each handler's doc comment).
//
// Good rows of a mixed request are always stored; the response names the
// bad ones (line, series or index, the value, the limit). A storage error
// answers 503 and a full store (model.ErrSeriesLimit) answers 429, so that
// clients which retry (Prometheus, OTel collectors) do so.
//
// # Names
//
// Label and metric names may be any valid UTF-8, as in Prometheus 3: Atlas
// tags such as nf.app and metric names such as ipc.server.call are stored
// as they are. Config.LegacyNameValidation restores the classic
// [a-zA-Z_][a-zA-Z0-9_]* rule for operators whose tooling needs it. OTLP
// names are translated the way Prometheus translates them by default
// (dots to underscores, unit and _total suffixes), so that PromQL written
// for Prometheus works unchanged.
package ingest

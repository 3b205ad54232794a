// Package sim simulates the systems Stratus was built to watch: a billing
// service migrating from a legacy database to a cloud database country by
// country, and a dozen microservices serving traffic beside it. It is what
// `stratus simulate` and `stratus demo` push, and a realistic load source.
//
// A Scenario is a pure function of its configuration, seed and the times it
// is stepped to: Step(t) advances every counter and gauge to t and returns
// the samples to push, split by the wire format that carries them (Atlas
// publish for the migration's own metrics, Prometheus remote write for the
// services, OTLP for the cut-over controller). Scripted incidents — a
// replication-lag spike in one country, a 5xx burst in one service, a
// stalled cut-over, row-parity drift, a circuit breaker that opens — start
// every IncidentEvery and last IncidentLength, so the built-in alert rules
// fire and then resolve.
//
// Metric names follow the built-in rule packs (alert/packs).
package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// Config shapes a scenario. Zero fields take DefaultConfig's values.
type Config struct {
	Countries           []string
	Tables              []string
	Services            int
	InstancesPerService int
	// IncidentEvery is the time between the starts of two incidents, and
	// IncidentLength how long each lasts.
	IncidentEvery, IncidentLength time.Duration
	// FirstIncidentAfter is when the first incident starts, so that a
	// newcomer sees one soon; later ones follow every IncidentEvery.
	FirstIncidentAfter time.Duration
	// CutoverDuration is how long one country's cut-over takes.
	CutoverDuration time.Duration
	Seed            uint64
}

// DefaultConfig is the demo's scenario: six countries, four tables, twelve
// services of three instances, an incident every three minutes.
func DefaultConfig() Config {
	return Config{
		Countries:           []string{"pt", "es", "fr", "de", "it", "nl"},
		Tables:              []string{"accounts", "invoices", "payments", "ledger"},
		Services:            12,
		InstancesPerService: 3,
		IncidentEvery:       3 * time.Minute,
		IncidentLength:      90 * time.Second,
		FirstIncidentAfter:  30 * time.Second,
		CutoverDuration:     20 * time.Minute,
		Seed:                1,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if len(c.Countries) == 0 {
		c.Countries = d.Countries
	}
	if len(c.Tables) == 0 {
		c.Tables = d.Tables
	}
	if c.Services <= 0 {
		c.Services = d.Services
	}
	if c.InstancesPerService <= 0 {
		c.InstancesPerService = d.InstancesPerService
	}
	if c.IncidentEvery <= 0 {
		c.IncidentEvery = d.IncidentEvery
	}
	if c.IncidentLength <= 0 || c.IncidentLength > c.IncidentEvery {
		c.IncidentLength = min(d.IncidentLength, c.IncidentEvery)
	}
	if c.FirstIncidentAfter <= 0 || c.FirstIncidentAfter > c.IncidentEvery {
		c.FirstIncidentAfter = min(d.FirstIncidentAfter, c.IncidentEvery/2)
	}
	if c.CutoverDuration <= 0 {
		c.CutoverDuration = d.CutoverDuration
	}
	return c
}

// serviceNames are the microservices of the billing platform.
var serviceNames = []string{
	"billing-api", "invoice-renderer", "payment-gateway", "ledger-writer",
	"customer-profile", "tax-engine", "notification", "pricing",
	"subscription", "fraud-check", "report-export", "auth",
	"search", "audit-log", "currency-rates", "webhook-relay",
}

// Incident kinds, in the order they rotate.
const (
	IncidentLagSpike       = "replication-lag-spike"
	IncidentErrorBurst     = "5xx-burst"
	IncidentCutoverStalled = "cutover-stalled"
	IncidentParityDrift    = "row-parity-drift"
	IncidentBreakerOpen    = "circuit-breaker-open"
)

var incidentKinds = []string{IncidentLagSpike, IncidentErrorBurst, IncidentCutoverStalled, IncidentParityDrift, IncidentBreakerOpen}

// Incident is the scripted incident under way at some time.
type Incident struct {
	Kind   string
	Target string // the country or service it hits
	Start  time.Time
	End    time.Time
}

// Batch holds one step's samples, by the format that carries them.
type Batch struct {
	// Atlas: migration metrics, pushed with Atlas publish.
	Atlas []model.TimeSeries
	// RemoteWrite: service metrics, pushed with Prometheus remote write.
	RemoteWrite []model.TimeSeries
	// OTLP: the cut-over controller's gauges, pushed with OTLP/HTTP.
	OTLP []OTLPGauge
}

// OTLPGauge is one OTLP gauge point with its resource and attributes.
type OTLPGauge struct {
	Name, Unit  string
	Service     string // resource attribute service.name
	Attributes  map[string]string
	TimeUnixMs  int64
	Value       float64
	Description string
}

type instance struct {
	name     string
	started  time.Time
	cpu      float64 // cumulative CPU seconds
	requests map[string]float64
	buckets  []float64 // cumulative latency bucket counts
	sum      float64
}

type service struct {
	name      string
	instances []*instance
	gone      []*instance // replaced since the last step: sent once as stale
	nextID    int
	memLimit  float64
	cpuLimit  float64
	baseRPS   float64
	baseLatMs float64
}

type tableState struct {
	source, target     float64
	processed, failed  float64
	retry              float64
	lag                float64
	dualOK, dualFailed float64
}

// Scenario is the simulated world. It is not safe for concurrent use.
type Scenario struct {
	cfg      Config
	start    time.Time
	last     time.Time
	rng      *rand.Rand
	services []*service
	tables   map[string]*tableState // country/table
	progress map[string]float64     // cut-over progress per country
}

// latencyBuckets are the le bounds of the request duration histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// New returns a scenario whose clock starts at start.
func New(cfg Config, start time.Time) *Scenario {
	cfg = cfg.withDefaults()
	s := &Scenario{
		cfg:      cfg,
		start:    start,
		last:     start,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x5ca1ab1e)),
		tables:   map[string]*tableState{},
		progress: map[string]float64{},
	}
	for i := range cfg.Services {
		name := serviceNames[i%len(serviceNames)]
		if i >= len(serviceNames) {
			name = fmt.Sprintf("%s-%d", name, i/len(serviceNames))
		}
		svc := &service{
			name:      name,
			memLimit:  float64(512<<20) * float64(1+i%3),
			cpuLimit:  float64(1 + i%2),
			baseRPS:   20 + float64((i*37)%80),
			baseLatMs: 15 + float64((i*13)%60),
		}
		for range cfg.InstancesPerService {
			svc.instances = append(svc.instances, s.newInstance(svc, start))
		}
		s.services = append(s.services, svc)
	}
	for ci, c := range cfg.Countries {
		for ti, t := range cfg.Tables {
			rows := 1e6 * float64(1+(ci*7+ti*3)%9)
			s.tables[c+"/"+t] = &tableState{source: rows, target: rows, lag: 2}
		}
	}
	return s
}

func (s *Scenario) newInstance(svc *service, t time.Time) *instance {
	in := &instance{
		name:     fmt.Sprintf("%s-%d:8080", svc.name, svc.nextID),
		started:  t,
		requests: map[string]float64{},
		buckets:  make([]float64, len(latencyBuckets)+1),
	}
	svc.nextID++
	return in
}

// IncidentAt returns the incident under way at t, if any. Incidents rotate
// through the kinds and their targets deterministically.
func (s *Scenario) IncidentAt(t time.Time) (Incident, bool) {
	el := t.Sub(s.start)
	lead := s.cfg.FirstIncidentAfter
	if el < lead {
		return Incident{}, false
	}
	n := int((el - lead) / s.cfg.IncidentEvery)
	start := s.start.Add(lead + time.Duration(n)*s.cfg.IncidentEvery)
	end := start.Add(s.cfg.IncidentLength)
	if t.After(end) || t.Equal(end) {
		return Incident{}, false
	}
	inc := Incident{Kind: incidentKinds[n%len(incidentKinds)], Start: start, End: end}
	switch inc.Kind {
	case IncidentLagSpike, IncidentParityDrift, IncidentCutoverStalled:
		inc.Target = s.cfg.Countries[(n/len(incidentKinds))%len(s.cfg.Countries)]
		if inc.Kind == IncidentCutoverStalled {
			inc.Target = s.activeCutover(t)
		}
	default:
		inc.Target = s.services[(n/len(incidentKinds)+n)%len(s.services)].name
	}
	return inc, true
}

// activeCutover is the country whose cut-over runs at t: countries take
// turns, each for CutoverDuration, round-robin.
func (s *Scenario) activeCutover(t time.Time) string {
	n := int(t.Sub(s.start) / s.cfg.CutoverDuration)
	return s.cfg.Countries[n%len(s.cfg.Countries)]
}

// Step advances the world to t and returns what to push.
func (s *Scenario) Step(t time.Time) Batch {
	dt := t.Sub(s.last).Seconds()
	if dt < 0 {
		dt = 0
	}
	s.last = t
	inc, hasInc := s.IncidentAt(t)
	ms := t.UnixMilli()
	var b Batch

	// Services over remote write.
	for _, svc := range s.services {
		errRatio := 0.002
		latMul := 1.0
		if hasInc && inc.Target == svc.name && inc.Kind == IncidentErrorBurst {
			errRatio, latMul = 0.3, 4
		}
		// Instances come and go: roughly every 7 minutes one instance of
		// each service is replaced, as autoscaling and deploys do.
		for i, in := range svc.instances {
			if t.Sub(in.started) > 7*time.Minute && s.rng.Float64() < dt/60 {
				svc.gone = append(svc.gone, in)
				svc.instances[i] = s.newInstance(svc, t)
			}
		}
		for _, in := range svc.gone {
			b.RemoteWrite = append(b.RemoteWrite, s.instanceSeries(svc, in, ms, true)...)
		}
		svc.gone = svc.gone[:0]
		for _, in := range svc.instances {
			rps := svc.baseRPS * (0.8 + 0.4*s.rng.Float64()) * (1 + 0.3*math.Sin(float64(ms)/3.6e6))
			n := rps * dt
			errs := n * errRatio
			in.requests["200"] += n - errs - n*0.01
			in.requests["404"] += n * 0.01
			in.requests["500"] += errs * 0.7
			in.requests["503"] += errs * 0.3
			for i := 0; i < 8; i++ {
				lat := svc.baseLatMs * latMul * math.Exp(s.rng.NormFloat64()*0.5) / 1000
				in.observe(lat, n/8)
			}
			in.cpu += dt * svc.cpuLimit * (0.3 + 0.2*s.rng.Float64()) * latMul
			b.RemoteWrite = append(b.RemoteWrite, s.instanceSeries(svc, in, ms, false)...)
		}
		breaker := "closed"
		if hasInc && inc.Kind == IncidentBreakerOpen && inc.Target == svc.name {
			breaker = "open"
		}
		for _, st := range []string{"closed", "open", "half_open"} {
			v := 0.0
			if st == breaker {
				v = 1
			}
			b.RemoteWrite = append(b.RemoteWrite, ts(ms, v, model.MetricName, "resilience4j_circuitbreaker_state",
				"service", svc.name, "name", "database", "state", st))
		}
	}

	// Migration metrics over Atlas publish.
	active := s.activeCutover(t)
	for _, c := range s.cfg.Countries {
		for _, tb := range s.cfg.Tables {
			st := s.tables[c+"/"+tb]
			writes := dt * (50 + 10*s.rng.Float64())
			st.source += writes
			failRatio := 0.001
			lagTarget := 1 + 3*s.rng.Float64()
			if hasInc && inc.Target == c && inc.Kind == IncidentLagSpike {
				lagTarget = 420 + 60*s.rng.Float64()
				failRatio = 0.03
			}
			st.lag += (lagTarget - st.lag) * min(1, dt/8)
			applied := writes
			if st.lag > 60 {
				applied *= 0.5
			}
			if hasInc && inc.Target == c && inc.Kind == IncidentParityDrift {
				applied *= 0.7 // rows silently lost on the target
			}
			st.target += applied
			if st.target < st.source && !(hasInc && inc.Target == c && inc.Kind == IncidentParityDrift) && st.lag < 60 {
				st.target = min(st.source, st.target+writes*0.6) // catch up
			}
			st.processed += writes
			st.failed += writes * failRatio
			// Failed rows wait in the retry queue and drain with a one-minute
			// time constant: ~100 rows normally, thousands while a country
			// is in trouble.
			st.retry = max(0, st.retry+writes*failRatio*40-st.retry*min(1, dt/60))
			st.dualOK += writes * (1 - failRatio)
			st.dualFailed += writes * failRatio
			lbl := func(name string, v float64, extra ...string) model.TimeSeries {
				return ts(ms, v, append([]string{model.MetricName, name, "country", c, "table", tb, "nf.app", "billing-migrator"}, extra...)...)
			}
			b.Atlas = append(b.Atlas,
				lbl("migration_replication_lag_seconds", st.lag),
				lbl("migration_source_rows", math.Round(st.source)),
				lbl("migration_target_rows", math.Round(st.target)),
				lbl("migration_rows_processed_total", math.Round(st.processed)),
				lbl("migration_rows_failed_total", math.Round(st.failed)),
				lbl("migration_retry_queue_depth", math.Round(st.retry)),
				lbl("migration_dual_write_total", math.Round(st.dualOK), "result", "ok"),
				lbl("migration_dual_write_total", math.Round(st.dualFailed), "result", "error"),
			)
		}
		// Cut-over progress over OTLP: the active country advances unless
		// its cut-over is stalled; finished countries stay at 1.
		if c == active && !(hasInc && inc.Kind == IncidentCutoverStalled && inc.Target == c) {
			s.progress[c] = min(1, s.progress[c]+dt/s.cfg.CutoverDuration.Seconds())
		}
		inProgress := 0.0
		if c == active && s.progress[c] < 1 {
			inProgress = 1
		}
		attrs := map[string]string{"country": c}
		b.OTLP = append(b.OTLP,
			OTLPGauge{Name: "migration.cutover.progress", Unit: "1", Service: "cutover-controller", Attributes: attrs, TimeUnixMs: ms, Value: s.progress[c], Description: "Share of the country's traffic served by the cloud database."},
			OTLPGauge{Name: "migration.cutover.in_progress", Service: "cutover-controller", Attributes: attrs, TimeUnixMs: ms, Value: inProgress, Description: "1 while the country's cut-over runs."},
		)
	}
	return b
}

func (in *instance) observe(lat, n float64) {
	for i, le := range latencyBuckets {
		if lat <= le {
			in.buckets[i] += n
		}
	}
	in.buckets[len(latencyBuckets)] += n
	in.sum += lat * n
}

// instanceSeries returns an instance's series at ms; stale marks them gone
// with the staleness marker, as a scraper would.
func (s *Scenario) instanceSeries(svc *service, in *instance, ms int64, stale bool) []model.TimeSeries {
	val := func(v float64) float64 {
		if stale {
			return model.StaleNaN()
		}
		return v
	}
	base := []string{"service", svc.name, "instance", in.name}
	with := func(name string, v float64, extra ...string) model.TimeSeries {
		return ts(ms, val(v), append(append([]string{model.MetricName, name}, base...), extra...)...)
	}
	out := []model.TimeSeries{
		ts(ms, val(1), model.MetricName, "up", "job", svc.name, "instance", in.name),
		with("process_cpu_seconds_total", in.cpu),
		with("process_cpu_limit_cores", svc.cpuLimit),
		with("process_resident_memory_bytes", svc.memLimit*(0.45+0.1*math.Sin(float64(ms)/6e5))),
		with("process_memory_limit_bytes", svc.memLimit),
		with("http_server_request_duration_seconds_sum", in.sum),
		with("http_server_request_duration_seconds_count", in.buckets[len(latencyBuckets)]),
		// The service's availability objective, which opts it into the
		// runtime pack's SLO burn-rate alerts.
		with("slo_objective_ratio", 0.999),
	}
	for code, n := range in.requests {
		out = append(out, with("http_server_requests_total", math.Round(n), "code", code))
	}
	for i, le := range latencyBuckets {
		out = append(out, with("http_server_request_duration_seconds_bucket", math.Round(in.buckets[i]), "le", formatLE(le)))
	}
	out = append(out, with("http_server_request_duration_seconds_bucket", math.Round(in.buckets[len(latencyBuckets)]), "le", "+Inf"))
	return out
}

func formatLE(le float64) string { return fmt.Sprint(le) }

func ts(ms int64, v float64, kv ...string) model.TimeSeries {
	return model.TimeSeries{Labels: model.FromStrings(kv...), Samples: []model.Sample{{T: ms, V: v}}}
}

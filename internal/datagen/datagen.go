// Package datagen generates deterministic, realistic node_exporter-like
// series and samples for benchmarks and tests: the block codec's
// bytes-per-sample measurements and the TSDB benchmark against Prometheus
// both run on it, so the numbers they report mean something for real
// scrapes.
//
// Series(n) returns the series of consecutive simulated hosts, each
// exposing the same ~120 series a node_exporter scrape of a 4-CPU machine
// with two NICs, two disks, three file systems and four temperature sensors
// holds. Samples(ls, i, ...) returns one series' samples; its shape follows
// the metric (see the kinds below), and everything is a pure function of
// (labels, index, start, interval, count), so two runs produce identical
// data.
//
// The mix per host (counted by series, not by metric name):
//
//   - about 55% counters: CPU seconds in hundredths (/proc/stat ticks / 100),
//     disk busy seconds in thousandths, byte, packet, interrupt and context
//     switch counts with varying integer increments, and error/drop counters
//     that rarely move;
//   - about 30% gauges: memory and file system bytes (multiples of 1024 or
//     4096 in a random walk), load averages with two decimals, temperatures
//     in tenths, small integer gauges (procs, sockets), and full-precision
//     durations in nanoseconds/1e9 (scrape and collector durations);
//   - about 10-15% constant series: sizes, totals, boot time, info metrics,
//     up, zero error counters.
//
// Timestamps sit on exact multiples of the interval from start, except on
// one host in five, whose scrapes carry up to ±4 ms of jitter (all series of
// a host share a scrape's timestamp, as real scrapes do).
package datagen

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/stratus-metrics/stratus/model"
)

// kind is the shape of a series' values.
type kind uint8

const (
	kConst         kind = iota // never changes
	kCounterTicks              // seconds with 2 decimals, steady increments
	kCounterMillis             // seconds with 3 decimals
	kCounterInt                // integer increments around a rate
	kCounterRare               // integer counter that moves rarely
	kGaugeBytes                // integer bytes, random walk in steps of unit
	kGaugeSlow                 // integer bytes that change now and then
	kGaugeLoad                 // two decimals, mean-reverting
	kGaugeTemp                 // tenths of a degree around a level
	kGaugeSmallInt             // small integers
	kGaugeNanos                // durations of ns/1e9, noisy
	kGaugeTime                 // node_time_seconds: wall clock with ns
)

type metric struct {
	name string
	kind kind
	// rate is the mean increment per second for counters, the level for
	// gauges; unit is the value quantum where it matters.
	rate, unit float64
	// labels are extra label name/value pairs; dims expands them.
	dim string // "", "cpu", "netdev", "disk", "fs", "hwmon", "collector"
}

var cpuModes = []struct {
	mode string
	rate float64 // seconds per second per CPU
}{
	{"idle", 0.85}, {"user", 0.08}, {"system", 0.04}, {"iowait", 0.01},
	{"irq", 0.002}, {"softirq", 0.005}, {"steal", 0.001}, {"nice", 0.0005},
}

var metrics = []metric{
	{name: "node_cpu_seconds_total", kind: kCounterTicks, dim: "cpu"},
	{name: "node_load1", kind: kGaugeLoad, rate: 1.2},
	{name: "node_load5", kind: kGaugeLoad, rate: 1.1},
	{name: "node_load15", kind: kGaugeLoad, rate: 1.0},
	{name: "node_memory_MemTotal_bytes", kind: kConst, rate: 16 << 30},
	{name: "node_memory_MemAvailable_bytes", kind: kGaugeBytes, rate: 9 << 30, unit: 1024},
	{name: "node_memory_MemFree_bytes", kind: kGaugeBytes, rate: 3 << 30, unit: 1024},
	{name: "node_memory_Cached_bytes", kind: kGaugeBytes, rate: 5 << 30, unit: 1024},
	{name: "node_memory_Buffers_bytes", kind: kGaugeSlow, rate: 300 << 20, unit: 1024},
	{name: "node_memory_Active_bytes", kind: kGaugeBytes, rate: 6 << 30, unit: 1024},
	{name: "node_memory_SwapTotal_bytes", kind: kConst, rate: 0},
	{name: "node_network_receive_bytes_total", kind: kCounterInt, rate: 2e5, dim: "netdev"},
	{name: "node_network_transmit_bytes_total", kind: kCounterInt, rate: 1e5, dim: "netdev"},
	{name: "node_network_receive_packets_total", kind: kCounterInt, rate: 300, dim: "netdev"},
	{name: "node_network_transmit_packets_total", kind: kCounterInt, rate: 200, dim: "netdev"},
	{name: "node_network_receive_drop_total", kind: kCounterRare, rate: 0.002, dim: "netdev"},
	{name: "node_network_receive_errs_total", kind: kConst, dim: "netdev"},
	{name: "node_network_up", kind: kConst, rate: 1, dim: "netdev"},
	{name: "node_disk_read_bytes_total", kind: kCounterInt, rate: 5e4, unit: 512, dim: "disk"},
	{name: "node_disk_written_bytes_total", kind: kCounterInt, rate: 3e5, unit: 512, dim: "disk"},
	{name: "node_disk_reads_completed_total", kind: kCounterInt, rate: 8, dim: "disk"},
	{name: "node_disk_writes_completed_total", kind: kCounterInt, rate: 40, dim: "disk"},
	{name: "node_disk_io_time_seconds_total", kind: kCounterMillis, rate: 0.03, dim: "disk"},
	{name: "node_filesystem_avail_bytes", kind: kGaugeSlow, rate: 40 << 30, unit: 4096, dim: "fs"},
	{name: "node_filesystem_free_bytes", kind: kGaugeSlow, rate: 45 << 30, unit: 4096, dim: "fs"},
	{name: "node_filesystem_size_bytes", kind: kConst, rate: 100 << 30, dim: "fs"},
	{name: "node_filesystem_files_free", kind: kGaugeSlow, rate: 6e6, unit: 1, dim: "fs"},
	{name: "node_hwmon_temp_celsius", kind: kGaugeTemp, rate: 48, dim: "hwmon"},
	{name: "node_context_switches_total", kind: kCounterInt, rate: 4000},
	{name: "node_intr_total", kind: kCounterInt, rate: 2500},
	{name: "node_forks_total", kind: kCounterInt, rate: 3},
	{name: "node_procs_running", kind: kGaugeSmallInt, rate: 2},
	{name: "node_procs_blocked", kind: kGaugeSmallInt, rate: 0.2},
	{name: "node_boot_time_seconds", kind: kConst, rate: 1.69e9},
	{name: "node_time_seconds", kind: kGaugeTime},
	{name: "node_entropy_available_bits", kind: kGaugeSmallInt, rate: 256},
	{name: "node_filefd_allocated", kind: kGaugeSmallInt, rate: 2200},
	{name: "node_sockstat_TCP_inuse", kind: kGaugeSmallInt, rate: 40},
	{name: "node_netstat_Tcp_CurrEstab", kind: kGaugeSmallInt, rate: 25},
	{name: "node_vmstat_pgfault", kind: kCounterInt, rate: 9000},
	{name: "node_vmstat_pgmajfault", kind: kCounterRare, rate: 0.05},
	{name: "node_uname_info", kind: kConst, rate: 1},
	{name: "node_scrape_collector_duration_seconds", kind: kGaugeNanos, rate: 0.002, dim: "collector"},
	{name: "up", kind: kConst, rate: 1},
	{name: "scrape_duration_seconds", kind: kGaugeNanos, rate: 0.03},
	{name: "scrape_samples_scraped", kind: kConst, rate: 1043},
}

var collectors = []string{"cpu", "diskstats", "filesystem", "loadavg", "meminfo", "netdev", "hwmon", "vmstat"}

// seriesTemplate is one series of a host: its labels without instance/job
// and the metric that shapes its values.
type seriesTemplate struct {
	m     *metric
	extra []string // label name/value pairs
	rate  float64  // per-series rate or level
}

var hostTemplate = buildHostTemplate()

func buildHostTemplate() []seriesTemplate {
	var out []seriesTemplate
	for i := range metrics {
		m := &metrics[i]
		switch m.dim {
		case "":
			out = append(out, seriesTemplate{m: m, rate: m.rate})
		case "cpu":
			for cpu := 0; cpu < 4; cpu++ {
				for _, md := range cpuModes {
					out = append(out, seriesTemplate{m: m, extra: []string{"cpu", strconv.Itoa(cpu), "mode", md.mode}, rate: md.rate})
				}
			}
		case "netdev":
			for j, dev := range []string{"eth0", "lo"} {
				out = append(out, seriesTemplate{m: m, extra: []string{"device", dev}, rate: m.rate / float64(1+3*j)})
			}
		case "disk":
			for j, dev := range []string{"nvme0n1", "sda"} {
				out = append(out, seriesTemplate{m: m, extra: []string{"device", dev}, rate: m.rate / float64(1+2*j)})
			}
		case "fs":
			for j, fs := range [][3]string{{"/dev/nvme0n1p2", "ext4", "/"}, {"/dev/nvme0n1p1", "vfat", "/boot/efi"}, {"/dev/sda1", "xfs", "/var/lib/data"}} {
				out = append(out, seriesTemplate{m: m, extra: []string{"device", fs[0], "fstype", fs[1], "mountpoint", fs[2]}, rate: m.rate / float64(1+j)})
			}
		case "hwmon":
			for j, s := range []string{"temp1", "temp2", "temp3", "temp4"} {
				out = append(out, seriesTemplate{m: m, extra: []string{"chip", "platform_coretemp_0", "sensor", s}, rate: m.rate + float64(j)})
			}
		case "collector":
			for _, c := range collectors {
				out = append(out, seriesTemplate{m: m, extra: []string{"collector", c}, rate: m.rate})
			}
		}
	}
	return out
}

// SeriesPerHost is the number of series Series generates for each host.
var SeriesPerHost = len(hostTemplate)

// Series returns n distinct, sorted label sets: the series of hosts
// "host-0000:9100", "host-0001:9100", ... in order, each with
// SeriesPerHost series (the last host may be partial). Series(n)[i] is the
// same label set for every n > i.
func Series(n int) []model.Labels {
	out := make([]model.Labels, n)
	for i := range out {
		host, j := i/len(hostTemplate), i%len(hostTemplate)
		st := hostTemplate[j]
		ss := []string{
			model.MetricName, st.m.name,
			"instance", fmt.Sprintf("host-%04d:9100", host),
			"job", "node",
		}
		ss = append(ss, st.extra...)
		out[i] = model.FromStrings(ss...)
	}
	return out
}

// seed derives a stable per-series seed from the labels and index.
func seed(ls model.Labels, idx int) uint64 {
	h := fnv.New64a()
	for _, l := range ls {
		h.Write([]byte(l.Name))
		h.Write([]byte{0xff})
		h.Write([]byte(l.Value))
		h.Write([]byte{0xff})
	}
	return h.Sum64() ^ uint64(idx)*0x9e3779b97f4a7c15
}

// Samples returns count samples of the series ls (the seriesIdx-th of
// Series), starting at start (ms) every interval ms. Values follow the
// series' metric as described in the package comment; the result depends
// only on the arguments.
func Samples(ls model.Labels, seriesIdx int, start, interval int64, count int) []model.Sample {
	return AppendSamples(nil, ls, seriesIdx, start, interval, count)
}

// AppendSamples is Samples appending to dst, so benchmarks can reuse a
// buffer.
func AppendSamples(dst []model.Sample, ls model.Labels, seriesIdx int, start, interval int64, count int) []model.Sample {
	st := templateFor(ls, seriesIdx)
	rng := rand.New(rand.NewPCG(seed(ls, seriesIdx), uint64(start)))
	host := seriesIdx / len(hostTemplate)
	jitter := host%5 == 4
	// Jitter depends on the host and the scrape only, so all of a host's
	// series share each timestamp.
	jrng := rand.New(rand.NewPCG(uint64(host)+1, uint64(start)))

	secs := float64(interval) / 1000
	rate := st.rate * (0.7 + 0.6*rng.Float64())
	var (
		ticks int64   // integer state for counters and quantized gauges
		level float64 // float state for gauges
	)
	uptime := 1e6 * (1 + rng.Float64()) // seconds: 12 to 23 days
	switch st.m.kind {
	case kCounterTicks:
		ticks = int64(rate * uptime * 100)
	case kCounterMillis:
		ticks = int64(rate * uptime * 1000)
	case kCounterInt:
		ticks = int64(rate*uptime) / int64(max(st.m.unit, 1)) * int64(max(st.m.unit, 1))
	case kCounterRare:
		ticks = int64(rate * uptime * 0.01)
	case kGaugeBytes, kGaugeSlow:
		ticks = int64(rate/st.m.unit) * int64(st.m.unit)
	default:
		level = rate
	}
	for i := 0; i < count; i++ {
		t := start + int64(i)*interval
		if jitter {
			t += jrng.Int64N(9) - 4
		}
		var v float64
		switch st.m.kind {
		case kConst:
			v = st.rate
		case kCounterTicks:
			// /proc/stat counts USER_HZ=100 ticks; node_exporter divides.
			ticks += int64(math.Round(rate * secs * 100 * (0.5 + rng.Float64())))
			v = float64(ticks) / 100
		case kCounterMillis:
			ticks += int64(math.Round(rate * secs * 1000 * 2 * rng.Float64()))
			v = float64(ticks) / 1000
		case kCounterInt:
			unit := int64(max(st.m.unit, 1))
			inc := int64(rate * secs * (0.2 + 1.6*rng.Float64() + 3*burst(rng)))
			ticks += inc / unit * unit
			v = float64(ticks)
		case kCounterRare:
			if rng.Float64() < rate*secs {
				ticks += 1 + rng.Int64N(3)
			}
			v = float64(ticks)
		case kGaugeBytes:
			unit := int64(st.m.unit)
			ticks += int64(rng.NormFloat64()*rate*0.002) / unit * unit
			v = float64(ticks)
		case kGaugeSlow:
			unit := int64(st.m.unit)
			if rng.Float64() < 0.15 {
				ticks -= (1 + rng.Int64N(64)) * unit
			}
			v = float64(ticks)
		case kGaugeLoad:
			level += 0.1*(rate-level) + 0.15*rng.NormFloat64()
			level = max(level, 0)
			v = math.Round(level*100) / 100
		case kGaugeTemp:
			level += 0.2*(rate-level) + 0.8*rng.NormFloat64()
			v = float64(int64(math.Round(level*10))*100) / 1000 // millidegrees / 1000
		case kGaugeSmallInt:
			level += 0.2*(rate-level) + math.Sqrt(rate+1)*0.3*rng.NormFloat64()
			v = math.Max(0, math.Round(level))
		case kGaugeNanos:
			ns := int64(rate * 1e9 * math.Exp(0.3*rng.NormFloat64()))
			v = float64(ns) / 1e9
		case kGaugeTime:
			ns := t*1e6 + rng.Int64N(5e6)
			v = float64(ns) / 1e9
		}
		dst = append(dst, model.Sample{T: t, V: v})
	}
	return dst
}

// burst returns 1 with small probability, for traffic spikes.
func burst(rng *rand.Rand) float64 {
	if rng.Float64() < 0.05 {
		return 1
	}
	return 0
}

// templateFor finds the template of the seriesIdx-th series, falling back to
// matching the metric name when ls is not from Series.
func templateFor(ls model.Labels, seriesIdx int) seriesTemplate {
	if seriesIdx >= 0 {
		st := hostTemplate[seriesIdx%len(hostTemplate)]
		if ls.Get(model.MetricName) == st.m.name {
			return st
		}
	}
	name := ls.Get(model.MetricName)
	for _, st := range hostTemplate {
		if st.m.name == name {
			return st
		}
	}
	return seriesTemplate{m: &metric{name: name, kind: kGaugeLoad}, rate: 1}
}

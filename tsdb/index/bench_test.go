package index

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stratus-metrics/stratus/model"
)

// nodeExporterSeries returns the series of hosts node-exporter-like
// targets, about 508 per host, deterministically: the same labels in the
// same order on every call.
func nodeExporterSeries(hosts int) []model.Labels {
	type family struct {
		names []string
		dims  [][2][]string // extra label name, its values; crossed
	}
	seq := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint(prefix, i)
		}
		return out
	}
	modes := []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
	cpus := seq("", 8)
	var memory []string
	for i := range 40 {
		memory = append(memory, fmt.Sprintf("node_memory_%02d_bytes", i))
	}
	families := []family{
		{[]string{"node_cpu_seconds_total"}, [][2][]string{{{"cpu"}, cpus}, {{"mode"}, modes}}},
		{[]string{"node_network_receive_bytes_total", "node_network_transmit_bytes_total", "node_network_receive_packets_total",
			"node_network_transmit_packets_total", "node_network_receive_errs_total", "node_network_transmit_errs_total"},
			[][2][]string{{{"device"}, {"eth0", "eth1", "lo", "docker0"}}}},
		{[]string{"node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_filesystem_free_bytes",
			"node_filesystem_files", "node_filesystem_files_free", "node_filesystem_readonly"},
			[][2][]string{{{"mountpoint"}, {"/", "/boot", "/var", "/home", "/data"}}}},
		{[]string{"node_disk_read_bytes_total", "node_disk_written_bytes_total", "node_disk_io_time_seconds_total",
			"node_disk_reads_completed_total", "node_disk_writes_completed_total"},
			[][2][]string{{{"device"}, {"sda", "sdb", "nvme0n1", "nvme1n1"}}}},
		{memory, nil},
		{[]string{"node_load1", "node_load5", "node_load15", "node_boot_time_seconds", "node_time_seconds",
			"node_context_switches_total", "node_forks_total", "node_intr_total", "node_procs_running", "node_procs_blocked"}, nil},
		{[]string{"node_interrupts_total"}, [][2][]string{{{"cpu"}, cpus}, {{"type"}, seq("irq", 40)}}},
	}
	regions := []string{"eu-west-1", "eu-central-1", "us-east-1", "ap-south-1"}
	var out []model.Labels
	for h := range hosts {
		instance := fmt.Sprintf("10.%d.%d.%d:9100", h/65536, h/256%256, h%256)
		base := []string{"job", "node", "instance", instance, "region", regions[h%len(regions)], "env", []string{"prod", "staging"}[h%5/4]}
		for _, f := range families {
			for _, name := range f.names {
				combos := [][]string{{model.MetricName, name}}
				for _, d := range f.dims {
					var next [][]string
					for _, c := range combos {
						for _, v := range d[1] {
							next = append(next, append(append([]string(nil), c...), d[0][0], v))
						}
					}
					combos = next
				}
				for _, c := range combos {
					out = append(out, model.FromStrings(append(c, base...)...))
				}
			}
		}
	}
	return out
}

const benchHosts = 200 // about 100k series

func buildIndex(series []model.Labels) *MemIndex {
	ix := New()
	for i, ls := range series {
		ix.Add(uint32(i), ls)
	}
	return ix
}

func BenchmarkSelect(b *testing.B) {
	series := nodeExporterSeries(benchHosts)
	ix := buildIndex(series)
	cases := []struct {
		name string
		ms   []*model.Matcher
	}{
		{"eq", []*model.Matcher{eq(model.MetricName, "node_cpu_seconds_total")}},
		{"set", []*model.Matcher{re("mode", "idle|user|system")}},
		{"prefix", []*model.Matcher{re(model.MetricName, "node_network_.*")}},
		{"neq", []*model.Matcher{neq("mode", "idle")}},
		{"regexp_scan", []*model.Matcher{re("instance", ".*:9100"), eq("mode", "user")}},
		{"three", []*model.Matcher{eq(model.MetricName, "node_cpu_seconds_total"), eq("instance", "10.0.0.42:9100"), neq("mode", "idle")}},
		{"has_label", []*model.Matcher{re("mountpoint", ".+")}},
	}
	b.Logf("%d series", len(series))
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(ix.Select(c.ms...))
			}
			b.ReportMetric(float64(n), "series")
		})
	}
}

func BenchmarkAdd(b *testing.B) {
	series := nodeExporterSeries(benchHosts)
	b.ReportAllocs()
	ix := New()
	i := 0
	for b.Loop() {
		ix.Add(uint32(i), series[i%len(series)])
		i++
	}
}

// BenchmarkHeapPerSeries reports the heap the index holds per series (the
// label strings included, as the index copies them).
func BenchmarkHeapPerSeries(b *testing.B) {
	series := nodeExporterSeries(benchHosts)
	b.ReportAllocs()
	var perSeries float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix := buildIndex(series)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSeries = float64(after.HeapAlloc-before.HeapAlloc) / float64(ix.NumSeries())
		runtime.KeepAlive(ix)
	}
	b.ReportMetric(perSeries, "heapB/series")
}

package main

// Runtime memory settings of `stratus serve`: the garbage collector's
// target and an optional soft memory limit. The store keeps its data in the
// Go heap, so how far the heap may grow past its live data between two
// collections decides most of the process' resident memory.

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
)

// runtimeConfig tunes the Go runtime's memory management.
type runtimeConfig struct {
	// GCPercent is the garbage collector's target, as the GOGC environment
	// variable sets it: the heap may grow by this percentage of the live
	// heap before the next collection. Go's own default is 100, which lets
	// a store whose live heap is its data use twice that; 30 (the default
	// here, and VictoriaMetrics') bounds the overhead at 30% for a few
	// percent more CPU. -1 turns the collector off. A GOGC environment
	// variable, when set, wins over this setting.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimit is a soft limit on the memory the Go runtime uses, in the
	// GOMEMLIMIT syntax ("1GiB", "512MiB", plain bytes); empty or "0" means
	// none. Near the limit the collector runs more often instead of letting
	// the heap grow. A GOMEMLIMIT environment variable, when set, wins over
	// this setting.
	MemoryLimit string `yaml:"memory_limit"`
}

// defaultRuntimeConfig returns the defaults documented in the README.
func defaultRuntimeConfig() runtimeConfig {
	return runtimeConfig{GCPercent: 30}
}

// Validate reports the first setting out of range.
func (c runtimeConfig) Validate() error {
	if c.GCPercent < -1 {
		return fmt.Errorf("runtime.gc_percent %d: must be -1 (off) or at least 0", c.GCPercent)
	}
	if _, err := parseByteSize(c.MemoryLimit); err != nil {
		return fmt.Errorf("runtime.memory_limit %q: %w", c.MemoryLimit, err)
	}
	return nil
}

// applyRuntimeConfig sets the collector's target and the memory limit from
// c, except for those the environment sets (GOGC, GOMEMLIMIT), which the
// runtime has already applied. It returns a function that restores the
// previous settings, for tests that run serve inside their own process.
func applyRuntimeConfig(c runtimeConfig, logger *slog.Logger) (restore func()) {
	prevGC, prevLimit := -2, int64(-1)
	gcFrom, limitFrom := "config", "config"
	if _, ok := os.LookupEnv("GOGC"); ok {
		gcFrom = "GOGC"
	} else {
		prevGC = debug.SetGCPercent(c.GCPercent)
	}
	limit, _ := parseByteSize(c.MemoryLimit) // validated
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		limitFrom = "GOMEMLIMIT"
	} else if limit > 0 {
		prevLimit = debug.SetMemoryLimit(limit)
	}
	cur := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(cur)
	logger.Info("go runtime memory settings",
		"gc_percent", cur[0].Value.Uint64(), "gc_percent_from", gcFrom,
		"memory_limit_bytes", formatLimit(int64(cur[1].Value.Uint64())), "memory_limit_from", limitFrom)
	return func() {
		if prevGC != -2 {
			debug.SetGCPercent(prevGC)
		}
		if prevLimit >= 0 {
			debug.SetMemoryLimit(prevLimit)
		}
	}
}

func formatLimit(n int64) string {
	if n == math.MaxInt64 {
		return "none"
	}
	return strconv.FormatInt(n, 10)
}

// parseByteSize parses a size in GOMEMLIMIT's syntax: a whole number of
// bytes with an optional B, KiB, MiB, GiB or TiB suffix. Empty means 0.
func parseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, shift = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a whole number of bytes with an optional B, KiB, MiB, GiB or TiB suffix, such as 2GiB")
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("larger than %d bytes", int64(math.MaxInt64))
	}
	return n << shift, nil
}

package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "", want: 0},
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "512B", want: 512},
		{in: "64KiB", want: 64 << 10},
		{in: "256MiB", want: 256 << 20},
		{in: " 2 GiB ", want: 2 << 30},
		{in: "1TiB", want: 1 << 40},
		{in: "8388607TiB", want: 8388607 << 40},
		{in: "8388608TiB", wantErr: true},
		{in: "1GB", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "1.5GiB", wantErr: true},
		{in: "GiB", wantErr: true},
	} {
		got, err := parseByteSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestRuntimeConfigValidate(t *testing.T) {
	if err := defaultRuntimeConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []runtimeConfig{{GCPercent: -2}, {GCPercent: 30, MemoryLimit: "lots"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
}

// TestApplyRuntimeConfig checks that the configuration sets the collector's
// target and the memory limit, that restore puts the previous ones back,
// and that GOGC and GOMEMLIMIT in the environment win.
func TestApplyRuntimeConfig(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	gc0 := debug.SetGCPercent(100)
	limit0 := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(gc0); debug.SetMemoryLimit(limit0) })

	restore := applyRuntimeConfig(runtimeConfig{GCPercent: 30, MemoryLimit: "3GiB"}, logger)
	if got := debug.SetGCPercent(30); got != 30 {
		t.Errorf("gc percent = %d, want 30", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Errorf("memory limit = %d, want %d", got, 3<<30)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("gc percent after restore = %d, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after restore = %d, want none", got)
	}

	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "off")
	restore = applyRuntimeConfig(runtimeConfig{GCPercent: 30, MemoryLimit: "3GiB"}, logger)
	defer restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("gc percent with GOGC set = %d, want 100 (the environment's)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit with GOMEMLIMIT set = %d, want none (the environment's)", got)
	}
}

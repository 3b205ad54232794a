package render

import (
	"image/color"
	"math"
	"slices"
	"testing"
)

func TestTickLabels(t *testing.T) {
	for _, tc := range []struct {
		vals []float64
		step float64
		want []string
	}{
		{[]float64{0, 1000, 2000, 3000}, 1000, []string{"0", "1k", "2k", "3k"}},
		{[]float64{0, 2.5e6, 5e6, 7.5e6, 10e6}, 2.5e6, []string{"0", "2.5M", "5.0M", "7.5M", "10.0M"}},
		{[]float64{0, 0.01, 0.02, 0.03}, 0.01, []string{"0", "10m", "20m", "30m"}},
		{[]float64{0, 500, 1000, 1500}, 500, []string{"0", "0.5k", "1.0k", "1.5k"}},
		{[]float64{0, 20, 40}, 20, []string{"0", "20", "40"}},
		{[]float64{-2, 0, 2}, 2, []string{"-2", "0", "2"}},
		{[]float64{0, 0.2, 0.4}, 0.2, []string{"0", "200m", "400m"}},
		{[]float64{0, 2.5e-6, 5e-6}, 2.5e-6, []string{"0", "2.5μ", "5.0μ"}},
		{[]float64{1e9, 2e9}, 1e9, []string{"1G", "2G"}},
		{[]float64{0, 0.5, 1.0}, 0.5, []string{"0", "0.5", "1.0"}},
	} {
		if got := tickLabels(tc.vals, tc.step); !slices.Equal(got, tc.want) {
			t.Errorf("tickLabels(%v, %g) = %q, want %q", tc.vals, tc.step, got, tc.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{1, "1.000"},
		{12345.678, "12.35k"},
		{999.96, "1.000k"},
		{-0.5, "-500.0m"},
		{2.5e6, "2.500M"},
		{123.456, "123.5"},
		{1e-30, "0"},
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Inf"},
	} {
		if got := FormatValue(tc.v); got != tc.want {
			t.Errorf("FormatValue(%g) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestParseColor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [4]uint8
		err  bool
	}{
		{"ff0000", [4]uint8{255, 0, 0, 255}, false},
		{"#0075DC", [4]uint8{0, 0x75, 0xdc, 255}, false},
		{"f00", [4]uint8{255, 0, 0, 255}, false},
		{"11223344", [4]uint8{0x11, 0x22, 0x33, 0x44}, false},
		{"red", [4]uint8{}, true},
		{"12345", [4]uint8{}, true},
	} {
		c, err := ParseColor(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseColor(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if got := [4]uint8{c.R, c.G, c.B, c.A}; !tc.err && got != tc.want {
			t.Errorf("ParseColor(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDarkThemeDropsInvisibleColors(t *testing.T) {
	pal := darkTheme.usable(armytage)
	var dropped []color.NRGBA
	for _, c := range armytage {
		if !slices.Contains(pal, c) {
			dropped = append(dropped, c)
		}
	}
	// Near-black and the darkest purple vanish on a black canvas.
	if want := []color.NRGBA{rgb(0x4C005C), rgb(0x191919)}; !slices.Equal(dropped, want) {
		t.Errorf("dark theme dropped %v, want %v", dropped, want)
	}
	if pal[0] != armytage[0] || pal[3] != armytage[4] {
		t.Errorf("dark palette reordered: %v", pal[:4])
	}
	if got := lightTheme.usable(armytage); len(got) != len(armytage) {
		t.Errorf("light palette dropped %d colors", len(armytage)-len(got))
	}
}

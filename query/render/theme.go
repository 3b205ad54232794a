package render

import (
	"fmt"
	"image/color"
)

// Theme is the set of colors that are not series colors. The light theme
// follows Atlas's (grey frame, white canvas, dashed reddish major grid) so
// that our graphs read like the ones users know; dark is its inverse for
// dashboards on dark UIs.
type Theme struct {
	// Name is what Graph.Theme selects the theme by.
	Name string
	// Background fills the image around the plot.
	Background color.NRGBA
	// Canvas fills the plot area and the legend.
	Canvas color.NRGBA
	// Text colors the title, tick labels and legend.
	Text color.NRGBA
	// Muted colors secondary text: the legend footer and stats header.
	Muted color.NRGBA
	// Axis colors the axis lines and tick marks.
	Axis color.NRGBA
	// MajorGrid and MinorGrid color the dashed grid lines.
	MajorGrid, MinorGrid color.NRGBA
	// Span is the default VSpan shade.
	Span color.NRGBA
	// Hatch colors the diagonal lines of an empty graph.
	Hatch color.NRGBA
	// NoticeBackground and NoticeText draw Graph.Notices.
	NoticeBackground, NoticeText color.NRGBA
}

var (
	lightTheme = Theme{
		Name:             "light",
		Background:       rgb(0xF5F5F5),
		Canvas:           rgb(0xFFFFFF),
		Text:             rgb(0x000000),
		Muted:            rgb(0x606060),
		Axis:             rgb(0x000000),
		MajorGrid:        color.NRGBA{R: 0xFF, G: 0x5B, B: 0x5B, A: 0x60},
		MinorGrid:        color.NRGBA{R: 0xAB, G: 0xAB, B: 0xAB, A: 0x60},
		Span:             color.NRGBA{R: 0xFF, G: 0x8C, B: 0x00, A: 0x40},
		Hatch:            color.NRGBA{R: 0x90, G: 0x90, B: 0x90, A: 0x60},
		NoticeBackground: rgb(0xFFC800),
		NoticeText:       rgb(0x000000),
	}
	darkTheme = Theme{
		Name:             "dark",
		Background:       rgb(0x0A0A0A),
		Canvas:           rgb(0x000000),
		Text:             rgb(0xFFFFFF),
		Muted:            rgb(0xA0A0A0),
		Axis:             rgb(0xFFFFFF),
		MajorGrid:        color.NRGBA{R: 0xFF, G: 0x5B, B: 0x5B, A: 0x60},
		MinorGrid:        color.NRGBA{R: 0xAB, G: 0xAB, B: 0xAB, A: 0x50},
		Span:             color.NRGBA{R: 0xFF, G: 0x8C, B: 0x00, A: 0x50},
		Hatch:            color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0x70},
		NoticeBackground: rgb(0xFFC800),
		NoticeText:       rgb(0x000000),
	}
)

func themeByName(name string) (*Theme, error) {
	switch name {
	case "", "light":
		return &lightTheme, nil
	case "dark":
		return &darkTheme, nil
	}
	return nil, fmt.Errorf("render: unknown theme %q (have light, dark)", name)
}

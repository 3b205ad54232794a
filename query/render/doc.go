// Package render draws the charts of the Atlas-style graph API
// (/api/v1/graph) and writes their data as CSV and JSON. It owns everything
// between evaluated series and bytes on the wire: layout, scales and ticks,
// colors and themes, rasterization and the four output formats. It knows
// nothing of queries: the caller evaluates the expression and hands over a
// Graph of Series on a regular time grid.
//
// # How a Graph becomes pixels
//
//  1. prepare validates the Graph (every error names the field and value),
//     applies Atlas's defaults (700x300 canvas, light theme, armytage
//     palette) and resolves each series' color.
//  2. newChart samples every series on the graph's grid, stacks the Stack
//     series per axis (positive and negative parts separately, NaN as zero),
//     finds each axis' data range and turns it into a scale with "nice"
//     ticks labeled with SI prefixes (0.5k, 2.5M, 10m), picks time ticks at
//     UTC boundaries, and lays out title, notices, plot, axes and legend.
//     The plot canvas has exactly the requested size; the image grows around
//     it, as in Atlas, so graphs on a dashboard line up.
//  3. chart.draw paints back to front onto a canvas: background, spans,
//     fills, grid, lines, axes, legend. Two canvases implement it: raster
//     (an RGBA image; paths anti-aliased by golang.org/x/image/vector,
//     text from the embedded Go fonts with a glyph cache) for PNG, and
//     svgCanvas for SVG. Both receive the same positions, so the formats
//     agree. A one-pixel line with more points than pixel columns (a day
//     of minutes on a 700-pixel plot) is drawn as one anti-aliased span
//     per column holding the line's ink (dense.go), which is what it looks
//     like and a third of the cost of a polygon per segment.
//  4. encodePNG filters the rows (Sub or Up, whichever is cheaper) and
//     compresses them in up to four bands at once, one deflate stream.
//
// Output is deterministic: the same Graph gives the same bytes whatever
// the machine's core count (the bands depend on the image alone), so
// tests and caches can compare hashes. Rendering is safe for concurrent use; the only
// shared state is the font cache, which is guarded.
//
// Dependency: golang.org/x/image, for its anti-aliasing rasterizer, its
// OpenType glyph rasterizer and the Go fonts; writing those ourselves would
// be a project of its own.
package render

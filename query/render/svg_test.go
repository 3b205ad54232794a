package render

import (
	"bytes"
	"encoding/xml"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type svgElem struct {
	name  string
	attrs map[string]string
	class string // of the innermost enclosing <g>
	text  string
}

// parseSVG checks that the document is well-formed XML and flattens it.
func parseSVG(t *testing.T, b []byte) []svgElem {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var out []svgElem
	var classes []string
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("svg is not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgElem{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			if len(classes) > 0 {
				e.class = classes[len(classes)-1]
			}
			if e.name == "g" {
				classes = append(classes, e.attrs["class"])
			}
			inText = e.name == "text"
			out = append(out, e)
		case xml.EndElement:
			if tok.Name.Local == "g" {
				classes = classes[:len(classes)-1]
			}
			inText = false
		case xml.CharData:
			if inText {
				out[len(out)-1].text += string(tok)
			}
		}
	}
	return out
}

func TestSVGLines(t *testing.T) {
	g := linesGraph()
	var b bytes.Buffer
	if err := SVG(&b, g); err != nil {
		t.Fatal(err)
	}
	golden(t, "lines.svg", b.Bytes())
	els := parseSVG(t, b.Bytes())
	p, _ := prepare(g)
	ch, _ := newChart(p)
	root := els[0]
	if root.name != "svg" || root.attrs["width"] != strconv.Itoa(ch.size.X) || root.attrs["height"] != strconv.Itoa(ch.size.Y) {
		t.Errorf("root = %v, want svg %v", root.attrs, ch.size)
	}
	var strokes []string
	var texts []string
	clips := 0
	for _, e := range els {
		switch {
		case e.name == "path" && e.class == "series line":
			strokes = append(strokes, e.attrs["stroke"])
			if e.attrs["clip-path"] != "url(#c0)" {
				t.Errorf("series path not clipped to the plot: %v", e.attrs)
			}
		case e.name == "text":
			texts = append(texts, e.text)
		case e.name == "clipPath":
			clips++
		}
	}
	want := []string{"#0075dc", "#993f00", "#9dcc00", "#4c005c"}
	if !slices.Equal(strokes, want) {
		t.Errorf("series strokes = %v, want %v", strokes, want)
	}
	if clips != 1 {
		t.Errorf("%d clip paths, want 1", clips)
	}
	all := strings.Join(texts, "\n")
	for _, s := range []string{"Billing API requests", "requests per second, country=de", "alert: HighErrorRatio firing", "requests/s", "Max", "Last", "2.047k", "01:30", "3.5k"} {
		if !strings.Contains(all, s) {
			t.Errorf("svg text lacks %q", s)
		}
	}
	// Series 1's path breaks at its NaN gap: two subpaths.
	for _, e := range els {
		if e.name == "path" && e.attrs["stroke"] == "#993f00" {
			if n := strings.Count(e.attrs["d"], "M"); n != 2 {
				t.Errorf("series 1 has %d subpaths, want 2 around its gap", n)
			}
		}
	}
}

func TestSVGStructure(t *testing.T) {
	for name, g := range map[string]Graph{"stack": stackGraph(), "empty": emptyGraph()} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := SVG(&b, g); err != nil {
				t.Fatal(err)
			}
			classes := map[string]int{}
			for _, e := range parseSVG(t, b.Bytes()) {
				if e.name == "g" {
					classes[e.attrs["class"]]++
				}
			}
			switch name {
			case "stack":
				if classes["series stack"] != 5 || classes["series line"] != 1 {
					t.Errorf("groups %v, want 5 stacks and 1 line", classes)
				}
			case "empty":
				if classes["nodata"] != 1 || classes["series line"] != 0 || classes["grid"] != 0 {
					t.Errorf("groups %v, want the no-data group and no series or grid", classes)
				}
			}
		})
	}
}

func TestSVGEscapes(t *testing.T) {
	g := emptyGraph()
	g.Title = `a<b & "c"`
	var b bytes.Buffer
	if err := SVG(&b, g); err != nil {
		t.Fatal(err)
	}
	for _, e := range parseSVG(t, b.Bytes()) {
		if e.name == "text" && e.class == "title" && e.text != g.Title {
			t.Errorf("title = %q, want %q", e.text, g.Title)
		}
	}
}

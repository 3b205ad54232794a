package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// staticPrefix is the URL path under which static/ is served.
const staticPrefix = "/ui/"

// contentTypes maps the extensions we ship to exact content types; the
// browser refuses ES modules served with anything but a JavaScript type
// (and nosniff makes it strict for CSS too).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".png":  "image/png",
	".ico":  "image/x-icon",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assetSet is the embedded files, read once, keyed by their path under
// static/ ("js/app.js").
type assetSet struct {
	files map[string]*asset
	shell *asset
}

func loadAssets() *assetSet {
	set := &assetSet{files: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		set.files[strings.TrimPrefix(p, "static/")] = &asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("BUG: embedded ui assets unreadable: " + err.Error())
	}
	set.shell = set.files["index.html"]
	if set.shell == nil {
		panic("BUG: embedded ui assets lack index.html")
	}
	return set
}

// serve writes a with revalidation caching: the browser keeps the file and
// asks again with If-None-Match, so a new binary's assets are picked up at
// once while an unchanged one costs a 304.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(a.body)
}

func (u *UI) serveShell(w http.ResponseWriter, r *http.Request) { u.assets.shell.serve(w, r) }

func (u *UI) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, staticPrefix)
	a := u.assets.files[name]
	if a == nil || name == "index.html" {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	a.serve(w, r)
}

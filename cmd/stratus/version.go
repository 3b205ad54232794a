package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at build time with -ldflags "-X main.version=... -X main.revision=...".
var (
	version  = "0.1.0-dev"
	revision = ""
)

// buildInfo describes this binary; it backs `stratus version`, the
// stratus_build_info metric and /api/v1/status/buildinfo.
type buildInfo struct {
	Version   string
	Revision  string
	GoVersion string
	BuildDate string
}

func readBuildInfo() buildInfo {
	bi := buildInfo{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if bi.Revision == "" {
					bi.Revision = s.Value
				}
			case "vcs.time":
				bi.BuildDate = s.Value
			}
		}
	}
	return bi
}

func versionString() string {
	bi := readBuildInfo()
	var b strings.Builder
	fmt.Fprintf(&b, "stratus version %s\n", bi.Version)
	fmt.Fprintf(&b, "  revision:   %s\n", orUnknown(bi.Revision))
	fmt.Fprintf(&b, "  build date: %s\n", orUnknown(bi.BuildDate))
	fmt.Fprintf(&b, "  go version: %s\n", bi.GoVersion)
	fmt.Fprintf(&b, "  platform:   %s/%s\n", runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

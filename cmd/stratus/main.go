// Command stratus is the Stratus metrics and alerting platform in one binary.
//
//	stratus serve    start the server (HTTP ingest, query, alerting, UI)
//	stratus loadgen  push remote-write load to a server and report samples/s
//	stratus version  print version and build information
//
// main maps flags and the optional YAML configuration file into a Config,
// wires the components together and is the only place that calls os.Exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Stratus: dimensional metrics, PromQL and the Atlas stack language, alerting.

Usage:
  stratus demo [flags]      start the server with a simulated migration, alerts and a webhook sink
  stratus serve [flags]     start the server
  stratus simulate [flags]  push a simulated cloud migration and microservices to a server
  stratus loadgen [flags]   push remote-write load to a server and report samples/s
  stratus rules check|test FILE...  validate rule files; run promtool-format rule unit tests
  stratus token NAME [ROLE...]      make an API token and the config entry that holds its hash
  stratus version           print version and build information
  stratus help              show this help

Run "stratus serve -h" for the server's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], stdout, stderr)
	case "demo":
		err = demoCmd(ctx, args[1:], stdout, stderr)
	case "simulate":
		err = simulateCmd(ctx, args[1:], stdout, stderr)
	case "loadgen":
		err = loadgenCmd(ctx, args[1:], stdout, stderr)
	case "rules":
		err = rulesCmd(ctx, args[1:], stdout, stderr)
	case "token":
		err = tokenCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprint(stdout, versionString())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "stratus: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "stratus: %v\n", err)
		return 1
	}
}

// errUsage marks an error already reported by the flag package.
var errUsage = errors.New("usage error")

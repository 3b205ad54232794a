package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/stratus-metrics/stratus/alert"
)

const rulesUsage = `Usage:
  stratus rules check FILE...   validate rule files as serve loads them; prints file:line: reason
  stratus rules test FILE...    run rule unit tests written for "promtool test rules"

Both exit 1 when any file has an error or a failing test.
`

// rulesCmd is `stratus rules check|test FILE...`: the promtool commands an
// operator runs before deploying rule files, answered by Stratus's own
// loader and engine so that what passes here is what serve runs.
func rulesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, rulesUsage)
		return nil
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, rulesUsage)
		return errUsage
	}
	switch args[0] {
	case "check":
		return rulesCheck(args[1:], stdout, stderr)
	case "test":
		return rulesTest(ctx, args[1:], stdout)
	}
	fmt.Fprintf(stderr, "stratus rules: unknown subcommand %q\n\n%s", args[0], rulesUsage)
	return errUsage
}

// rulesCheck makes the checks that loading makes (alert.ParseRules: YAML
// schema, PromQL syntax, names, templates) on each file, and prints every
// problem as file:line: reason, one per line.
func rulesCheck(files []string, stdout, stderr io.Writer) error {
	bad := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", f, unwrapPathError(err))
			bad++
			continue
		}
		groups, err := alert.ParseRules(f, b)
		if err != nil {
			fmt.Fprintln(stderr, err)
			bad++
			continue
		}
		rules := 0
		for _, g := range groups {
			rules += len(g.Rules)
		}
		fmt.Fprintf(stdout, "%s: SUCCESS: %d groups, %d rules\n", f, len(groups), rules)
	}
	if bad > 0 {
		return fmt.Errorf("rules check: %d of %d files have errors", bad, len(files))
	}
	return nil
}

// unwrapPathError drops the operation and path from an *os.PathError, whose
// path the caller prints first anyway.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// rulesTest runs each unit-test file and prints promtool's report shape:
// "Unit Testing: FILE", then SUCCESS or FAILED: with one block per failed
// expectation.
func rulesTest(ctx context.Context, files []string, stdout io.Writer) error {
	failed := 0
	for _, f := range files {
		fmt.Fprintf(stdout, "Unit Testing: %s\n", f)
		problems := runRuleTestFile(ctx, f)
		if len(problems) == 0 {
			fmt.Fprintln(stdout, "  SUCCESS")
			continue
		}
		failed++
		fmt.Fprintln(stdout, "  FAILED:")
		for _, p := range problems {
			fmt.Fprintln(stdout, indent(p, "    "))
		}
	}
	if failed > 0 {
		return fmt.Errorf("rules test: %d of %d files failed", failed, len(files))
	}
	return nil
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

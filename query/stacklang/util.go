package stacklang

import (
	"errors"
	"fmt"
	"strings"
)

func errorf(format string, args ...any) error {
	if len(args) == 0 {
		return errors.New(format)
	}
	return fmt.Errorf(format, args...)
}

func join(keys []string) string { return strings.Join(keys, ",") }

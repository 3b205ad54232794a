//go:build !unix

package tsdb

import (
	"errors"
	"os"
)

// mmapSupported says whether closed head chunks can live in mapped files;
// elsewhere they stay in heap slabs.
const mmapSupported = false

func mapFile(*os.File, int) ([]byte, error) { return nil, errors.New("mmap is not supported here") }
func unmapFile([]byte) error                { return nil }
func dropPages([]byte)                      {}

//go:build unix

package tsdb

import (
	"os"
	"syscall"
)

// mmapSupported says whether closed head chunks can live in mapped files.
const mmapSupported = true

// mapFile maps size bytes of f read-only and shared, so that what is
// written to f with write(2) can be read through the mapping. Only the part
// of the mapping within the file's length may be read.
func mapFile(f *os.File, size int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
}

func unmapFile(b []byte) error { return syscall.Munmap(b) }

// dropPages removes b's pages from the process' page tables; the data stays
// in the page cache and the next read maps it again.
func dropPages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }

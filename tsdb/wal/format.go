package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"

	"github.com/golang/snappy"
)

// The on-disk layout; FORMAT.md beside this file is its prose description
// and must change with it.
const (
	// segmentHeaderSize is the length of the header every segment starts
	// with: 4 bytes of magic, 1 byte of format version, 3 reserved zeros.
	segmentHeaderSize = 8
	// FormatVersion is the segment format version this package writes and
	// the only one it reads.
	FormatVersion = 1
	// recordHeaderSize is the length of a record header: CRC32C (4 bytes),
	// flags (1 byte), stored payload length (4 bytes).
	recordHeaderSize = 9

	// flagSnappy marks a payload stored snappy-compressed (block format).
	flagSnappy = 1 << 0
	// knownFlags are the flag bits this version understands; a record with
	// any other bit set is treated as corrupt.
	knownFlags = flagSnappy

	// MaxRecordSize is the largest record (uncompressed payload) Log
	// accepts. It also bounds what a reader will allocate for one record,
	// so garbage on disk cannot make it allocate gigabytes.
	MaxRecordSize = 64 << 20
)

// segmentMagic identifies a Stratus WAL segment ("SWAL").
var segmentMagic = [4]byte{'S', 'W', 'A', 'L'}

// castagnoli is the CRC32C table; CRC32C has hardware support on amd64 and
// arm64, so checksumming costs little next to the write itself.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendSegmentHeader appends the 8-byte segment header to dst.
func appendSegmentHeader(dst []byte) []byte {
	dst = append(dst, segmentMagic[:]...)
	return append(dst, FormatVersion, 0, 0, 0)
}

// appendRecord appends one framed record holding payload to dst. When
// compress is set and snappy shrinks the payload, the compressed form is
// stored; scratch is reused for the compression and returned grown.
//
// The CRC covers the flags byte, the length and the stored payload, so a
// flipped flag or length is detected as well as a flipped payload byte.
func appendRecord(dst, payload []byte, compress bool, scratch []byte) (out, scratchOut []byte) {
	flags := byte(0)
	stored := payload
	if compress && len(payload) > 0 {
		if n := snappy.MaxEncodedLen(len(payload)); cap(scratch) < n {
			scratch = make([]byte, n)
		}
		enc := snappy.Encode(scratch[:cap(scratch)], payload)
		if len(enc) < len(payload) {
			stored = enc
			flags |= flagSnappy
		}
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, flags, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(dst[start+5:], uint32(len(stored)))
	dst = append(dst, stored...)
	crc := crc32.Checksum(dst[start+4:], castagnoli)
	binary.LittleEndian.PutUint32(dst[start:], crc)
	return dst, scratch
}

// segmentName returns the file name of segment index i.
func segmentName(i int) string {
	return fmt.Sprintf("%08d", i)
}

// parseSegmentName returns the index a segment file name encodes, or false
// for names that are not segments (temporary files, checkpoints).
func parseSegmentName(name string) (int, bool) {
	if len(name) < 8 {
		return 0, false
	}
	for _, c := range []byte(name) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(name)
	if err != nil {
		return 0, false
	}
	return i, true
}

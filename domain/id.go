package domain

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// ID is a UUID. Version 7 ids are generated because their time prefix keeps B-tree inserts
// local; any UUID version is accepted when parsing.
type ID [16]byte

// NewID returns a fresh UUIDv7 (RFC 9562) for the given instant.
func NewID(now time.Time) ID {
	var id ID
	binary.BigEndian.PutUint64(id[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(id[6:]) // crypto/rand.Read never fails (Go 1.24+)
	id[6] = 0x70 | id[6]&0x0f
	id[8] = 0x80 | id[8]&0x3f
	return id
}

// ParseID accepts the canonical 36-character form, case-insensitively.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, Invalid("id", "must be a UUID")
	}
	hexDigits := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(id[:], []byte(hexDigits)); err != nil {
		return ID{}, Invalid("id", "must be a UUID")
	}
	return id, nil
}

// IsZero reports whether the id was never set.
func (id ID) IsZero() bool { return id == ID{} }

func (id ID) String() string {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return string(buf[:])
}

// Compare orders ids bytewise, which for version 7 ids is creation order.
func (id ID) Compare(other ID) int { return bytes.Compare(id[:], other[:]) }

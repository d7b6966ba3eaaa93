package aesgcm

import (
	"encoding/binary"

	"github.com/brokerly/accounts/ports"
)

// The associated data format. Changing any of this makes every stored value unreadable,
// so a change needs a new version and a rewrap, never an edit in place.
const (
	aadVersion = "v1"
	aadTable   = "user_credentials"
)

// associatedData encodes (version, table, column, owner, credential id) with each field
// prefixed by its 4-byte big-endian length, so no two different bindings can encode to
// the same bytes, whatever characters the ids contain.
func associatedData(b ports.Binding) []byte {
	fields := [...]string{aadVersion, aadTable, string(b.Field), b.Owner.String(), b.CredentialID.String()}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	buf := make([]byte, 0, n)
	for _, f := range fields {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(f)))
		buf = append(buf, f...)
	}
	return buf
}

// complete reports whether every part of the binding is set; a value bound to a zero id
// would be bound to nothing in particular.
func complete(b ports.Binding) bool {
	return !b.CredentialID.IsZero() && !b.Owner.IsZero() && b.Field != ""
}

package credential

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/brokerly/accounts/domain"
)

// Listing pages: "newest first" is creation time descending, id descending to break ties.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// DefaultPerAccount is how many credentials one account may hold unless configured
// otherwise: room for a paper and a live key pair per broker and their rotations, far
// below what would make a list of them costly.
const DefaultPerAccount = 25

// ErrLimitReached means an account already holds as many credentials as it may.
var ErrLimitReached = errors.New("the account holds the most credentials it may")

// Page asks for at most Size credentials, those after After in "newest first" order (a
// zero After: from the newest).
type Page struct {
	Size  int
	After Cursor
}

// NewPage checks a requested page size (nil: the default) and cursor.
func NewPage(size *int, after Cursor) (Page, error) {
	n := DefaultPageSize
	if size != nil {
		n = *size
	}
	if n < 1 || n > MaxPageSize {
		return Page{}, domain.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	return Page{Size: n, After: after}, nil
}

// Cursor is a position in "newest first" order: just after the credential it was made
// from. Its text form is opaque to clients; it names nothing of another user's, since a
// list only ever reaches the caller's own rows.
type Cursor struct {
	createdAt time.Time
	id        domain.ID
}

// CursorAfter is the position just after c.
func CursorAfter(c Credential) Cursor { return Cursor{createdAt: c.CreatedAt(), id: c.ID()} }

func (c Cursor) IsZero() bool { return c.id.IsZero() }

// CreatedAt and ID are the position: lists continue with what is older, or as old with a
// smaller id.
func (c Cursor) CreatedAt() time.Time { return c.createdAt }
func (c Cursor) ID() domain.ID        { return c.id }

// cursorVersion leads the encoded form, so the format can change without misreading old
// cursors: one byte, then the creation time in microseconds since the epoch, then the id.
const cursorVersion = 1

var cursorEncoding = base64.RawURLEncoding

// String is the opaque text form: URL-safe base64 without padding.
func (c Cursor) String() string {
	var b [25]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(c.createdAt.UnixMicro()))
	copy(b[9:], c.id[:])
	return cursorEncoding.EncodeToString(b[:])
}

// ParseCursor reads String's form; "" is the zero cursor (from the newest).
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	var b [25]byte
	if cursorEncoding.DecodedLen(len(s)) != len(b) {
		return Cursor{}, invalidCursor
	}
	if n, err := cursorEncoding.Strict().Decode(b[:], []byte(s)); err != nil || n != len(b) || b[0] != cursorVersion {
		return Cursor{}, invalidCursor
	}
	var id domain.ID
	copy(id[:], b[9:])
	micros := int64(binary.BigEndian.Uint64(b[1:9]))
	if id.IsZero() || micros < 0 {
		return Cursor{}, invalidCursor
	}
	return Cursor{createdAt: time.UnixMicro(micros).UTC(), id: id}, nil
}

var invalidCursor = domain.Invalid("cursor", "is not a cursor this service returned")

package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/ports"
)

// maxTokenLength bounds what is sent to the database; Better Auth's tokens are 32 characters.
const maxTokenLength = 255

// lookupSessionSQL calls the SECURITY DEFINER function of migration 006, which needs no
// grant on Better Auth's tables: it returns the user id and expiry of the unexpired session
// with this token, or no row.
const lookupSessionSQL = `SELECT user_id, expires_at FROM public.accounts_session_lookup($1)`

// SessionStore resolves Better Auth session tokens against the shared database.
type SessionStore struct {
	db *bun.DB
}

func NewSessionStore(db *bun.DB) *SessionStore {
	return &SessionStore{db: db}
}

// LookupSession returns the id of the user whose unexpired session carries token, or
// ports.ErrUnauthenticated. It is one autocommit statement; tokens that cannot be valid are
// refused without touching the pool.
func (s *SessionStore) LookupSession(ctx context.Context, token string) (string, error) {
	userID, _, err := s.lookup(ctx, token)
	return userID, err
}

// lookup also returns when the session expires, for the cache.
func (s *SessionStore) lookup(ctx context.Context, token string) (string, time.Time, error) {
	if token == "" || len(token) > maxTokenLength || !utf8.ValidString(token) || strings.ContainsRune(token, 0) {
		return "", time.Time{}, fmt.Errorf("postgres: session token is malformed: %w", ports.ErrUnauthenticated)
	}
	var userID sql.NullString
	var expiresAt time.Time
	err := s.db.DB.QueryRowContext(ctx, lookupSessionSQL, token).Scan(&userID, &expiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", time.Time{}, fmt.Errorf("postgres: no live session: %w", ports.ErrUnauthenticated)
	case sqlState(err) == codeInsufficientPrivs:
		// Not "not found": the login role is misconfigured, and every request would fail.
		return "", time.Time{}, fmt.Errorf("postgres: look up session: the login role may not execute "+
			"accounts_session_lookup (make it a member of %s that inherits): %w", appRole, err)
	case err != nil:
		return "", time.Time{}, translate("look up session", err)
	case !userID.Valid || userID.String == "":
		return "", time.Time{}, fmt.Errorf("postgres: no live session: %w", ports.ErrUnauthenticated)
	}
	return userID.String, expiresAt, nil
}

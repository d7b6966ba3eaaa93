package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/ports"
)

// maxTokenLength bounds what is sent to the database; Better Auth's tokens are 32 characters.
const maxTokenLength = 255

// lookupSessionSQL calls the SECURITY DEFINER function of migration 004, which needs no
// grant on Better Auth's tables: it returns the user id, or NULL when no unexpired session
// has this token.
const lookupSessionSQL = `SELECT public.accounts_session_user($1)`

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
	if token == "" || len(token) > maxTokenLength || !utf8.ValidString(token) || strings.ContainsRune(token, 0) {
		return "", fmt.Errorf("postgres: session token is malformed: %w", ports.ErrUnauthenticated)
	}
	var userID sql.NullString
	if err := s.db.DB.QueryRowContext(ctx, lookupSessionSQL, token).Scan(&userID); err != nil {
		if sqlState(err) == codeInsufficientPrivs {
			// Not "not found": the login role is misconfigured, and every request would fail.
			return "", fmt.Errorf("postgres: look up session: the login role may not execute "+
				"accounts_session_user (make it a member of %s that inherits): %w", appRole, err)
		}
		return "", translate("look up session", err)
	}
	if !userID.Valid || userID.String == "" {
		return "", fmt.Errorf("postgres: no live session: %w", ports.ErrUnauthenticated)
	}
	return userID.String, nil
}

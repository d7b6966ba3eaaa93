package servicetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/brokerly/accounts/adapters/betterauth"
)

// CookieName is the session cookie of the services these tests start (plain mode, the
// default prefix).
const CookieName = "better-auth.session_token"

// Session is a user with a live session, in every form a client could present it.
type Session struct {
	UserID, Token string
}

// Value is the cookie value as Better Auth sets it and the browser sends it back:
// encodeURIComponent(token.signature).
func (s Session) Value() string { return betterauth.SignValue(Secret, s.Token) }

// Cookie is the browser's Cookie header.
func (s Session) Cookie() string { return CookieName + "=" + s.Value() }

// Signed is token.signature, not URL-encoded: what Better Auth's bearer plugin issues.
func (s Session) Signed() string { return betterauth.SignToken(Secret, s.Token) }

// Bearer is the Authorization header's value.
func (s Session) Bearer() string { return "Bearer " + s.Signed() }

// Browser is the headers of the web app's requests: the cookie and the allowed Origin.
func (s Session) Browser() []string { return []string{"Cookie", s.Cookie(), "Origin", Origin} }

// SignIn inserts users with these ids, each with a session valid for an hour, in one round
// trip, as Better Auth would, and returns their sessions.
func SignIn(t testing.TB, dbURL string, ids ...string) []Session {
	t.Helper()
	out := make([]Session, len(ids))
	tokens := make([]string, len(ids))
	for i := range out {
		tokens[i] = RandomHex(16)
		out[i] = Session{UserID: ids[i], Token: tokens[i]}
	}
	Exec(t, dbURL, `WITH u AS (
			INSERT INTO "user" (id, name, email, "emailVerified")
			SELECT id, id, id || '@example.test', false FROM unnest($1::text[]) id RETURNING id)
		INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId")
		SELECT 's-' || t.token, now() + interval '1 hour', t.token, now(), t.id
		FROM unnest($1::text[], $2::text[]) AS t(id, token)`, ids, tokens)
	return out
}

// Users signs in n users called prefix-0 … prefix-(n-1).
func Users(t testing.TB, dbURL, prefix string, n int) []Session {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return SignIn(t, dbURL, ids...)
}

// RandomHex is n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// Sig is the signature part of the signed value: 44 characters of standard base64.
func (s Session) Sig() string { return SignatureWith(Secret, s.Token) }

// SignatureWith is the signature Better Auth would put on token with secret.
func SignatureWith(secret, token string) string {
	return betterauth.SignToken(secret, token)[len(token)+1:]
}

// SignedValue is the cookie value Better Auth sets for token with the tests' secret.
func SignedValue(token string) string { return betterauth.SignValue(Secret, token) }

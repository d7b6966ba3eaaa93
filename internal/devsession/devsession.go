// Package devsession signs a developer in, for local use only: it writes a Better Auth
// user and session exactly as Better Auth's email sign-up would (its columns, a random
// 32-character id and token from Better Auth's alphabet, its default 7-day expiry), so a
// newcomer can call the API without a Better Auth server, SQL or an HMAC by hand. The
// service itself never writes Better Auth's tables; only this development tool does.
package devsession

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/adapters/betterauth"
)

// Lifetime is Better Auth's default session.expiresIn.
const Lifetime = 7 * 24 * time.Hour

// UserAgent marks the sessions this tool makes, in Better Auth's own "userAgent" column.
const UserAgent = "accounts dev-session"

// Session is a signed-in developer, in every form a client presents a session.
type Session struct {
	UserID    string
	Email     string
	Created   bool // the user was created now, not found
	ExpiresAt time.Time
	// Cookie is the Cookie header's name=value, the value URL-encoded as Better Auth sets it;
	// Authorization is the bearer header's value, as Better Auth's bearer plugin issues it.
	Cookie        string
	Authorization string
}

// ErrNotMigrated means Better Auth's tables are not there yet.
var ErrNotMigrated = errors.New("the tables of Better Auth are missing: run `accounts migrate` first")

// Create finds the user with email (or creates one, named after the address's local part),
// adds a session for them, and signs it with secret as Better Auth would.
func Create(ctx context.Context, db bun.IDB, email, secret, cookieName string, now time.Time) (Session, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return Session{}, fmt.Errorf("dev session: %q is not an email address", email)
	}
	email = strings.ToLower(addr.Address) // Better Auth stores emails lower-cased
	now = now.UTC()
	s := Session{Email: email, ExpiresAt: now.Add(Lifetime)}
	token := randomID()
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var exists bool
		if err := tx.NewRaw(`SELECT to_regclass('public."session"') IS NOT NULL`).Scan(ctx, &exists); err != nil {
			return err
		}
		if !exists {
			return ErrNotMigrated
		}
		err := tx.NewRaw(`SELECT id FROM "user" WHERE email = ?`, email).Scan(ctx, &s.UserID)
		switch {
		case err == nil:
		case errors.Is(err, sql.ErrNoRows):
			s.UserID, s.Created = randomID(), true
			name, _, _ := strings.Cut(email, "@")
			if _, err := tx.NewRaw(`INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
				VALUES (?, ?, ?, false, ?, ?)`, s.UserID, name, email, now, now).Exec(ctx); err != nil {
				return err
			}
		default:
			return err
		}
		_, err = tx.NewRaw(`INSERT INTO "session" (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
			VALUES (?, ?, ?, ?, ?, '127.0.0.1', ?, ?)`, randomID(), s.ExpiresAt, token, now, now, UserAgent, s.UserID).Exec(ctx)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("dev session: %w", err)
	}
	s.Cookie = cookieName + "=" + betterauth.SignValue(secret, token)
	s.Authorization = "Bearer " + betterauth.SignToken(secret, token)
	return s, nil
}

// randomID is Better Auth's generateId: 32 characters of a-z, A-Z and 0-9.
func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const size = 32
	out := make([]byte, 0, size)
	var buf [64]byte
	for len(out) < size {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+)
		for _, b := range buf {
			// Rejection sampling: 248 is the largest multiple of 62 that fits a byte, so
			// every character is equally likely.
			if b < 248 && len(out) < size {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// Package betterauth verifies Better Auth session cookies and bearer tokens without
// calling Better Auth: it checks the HMAC signature Better Auth put on the session token,
// and only then asks a SessionStore (the shared PostgreSQL) whether that session is live.
// The format is pinned down in shared/spec/better-auth.md (better-auth 1.7.25).
package betterauth

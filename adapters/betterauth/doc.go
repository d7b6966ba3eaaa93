// Package betterauth verifies Better Auth session cookies and bearer tokens without
// calling Better Auth: it checks the HMAC signature Better Auth put on the session token,
// in constant time, and hands on the token. Whether that session is still valid is for the
// database to say, in the request's own transaction. The format is described in
// docs/better-auth.md.
package betterauth

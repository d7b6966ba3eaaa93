package httpadapter

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// authenticate guards /api/*: nothing after it runs without a validly signed session. It
// checks only the signature, in constant time and without touching the database; the
// first statement of the request's transaction then resolves the session (or refuses it
// with the same 401). Every refusal is the same ErrUnauthenticated, so the 401 body never
// hints at which check failed; a client that keeps failing gets 429 instead (see
// handleError and authLimiter), whatever it presents, until its budget refills.
func (s *Server) authenticate(c *fiber.Ctx) error {
	proof, viaCookie := s.sessionProof(c)
	if proof == (ports.SessionProof{}) {
		c.Locals(localAuthOutcome, AuthNoCredentials)
		return ports.ErrUnauthenticated // nothing presented
	}
	c.Locals(localSecrets, proof)
	sess, err := s.verifier.Verify(proof)
	if err != nil {
		if errors.Is(err, ports.ErrUnauthenticated) {
			c.Locals(localAuthOutcome, AuthBadSignature)
			return ports.ErrUnauthenticated // the reason stays out of the response
		}
		return err
	}
	c.Locals(localSession, sess)
	c.Locals(localViaCookie, viaCookie)
	c.Set(fiber.HeaderCacheControl, "no-store") // per-user data must not sit in shared caches
	return c.Next()
}

// sessionProof picks what the client presented: a bearer token if there is one, else the
// session cookie. Values are passed on exactly as received (the cookie still URL-encoded)
// and copied, because Fiber reuses the request's memory after the handler.
func (s *Server) sessionProof(c *fiber.Ctx) (proof ports.SessionProof, viaCookie bool) {
	if tok, ok := bearerToken(c.Get(fiber.HeaderAuthorization)); ok {
		return ports.SessionProof{Bearer: strings.Clone(tok)}, false
	}
	// Only the one configured name: a cookie under any other name (the __Secure- variant
	// in plain mode, the plain one in secure mode) is one Better Auth itself ignores.
	// fasthttp returns the first of a repeated name, as better-call's parseCookies does.
	if s.cfg.SessionCookieName == "" {
		return ports.SessionProof{}, false
	}
	if v := c.Cookies(s.cfg.SessionCookieName); v != "" {
		return ports.SessionProof{Cookie: strings.Clone(v)}, true
	}
	return ports.SessionProof{}, false
}

// bearerToken parses "Bearer <token>" with a case-insensitive scheme, as Better Auth's
// bearer plugin does.
func bearerToken(header string) (string, bool) {
	const scheme = "bearer"
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	if sep := header[len(scheme)]; sep != ' ' && sep != '\t' {
		return "", false
	}
	tok := strings.Trim(header[len(scheme)+1:], " \t")
	return tok, tok != ""
}

// secretsOf lists the forms of the proof a dependency might quote in an error: as sent,
// URL-decoded, and the bare session token before the signature.
func secretsOf(p ports.SessionProof) []string {
	raw := p.Bearer + p.Cookie // at most one is set
	if raw == "" {
		return nil
	}
	out := []string{raw}
	if dec, err := url.PathUnescape(raw); err == nil && dec != raw {
		out = append(out, dec)
		raw = dec
	}
	if i := strings.LastIndexByte(raw, '.'); i > 0 {
		out = append(out, raw[:i])
	}
	return out
}

// sessionOf is the signed session; authenticate guarantees it on /api/* routes.
func sessionOf(c *fiber.Ctx) user.Session {
	s, _ := c.Locals(localSession).(user.Session)
	return s
}

func cookieAuthenticated(c *fiber.Ctx) bool {
	via, _ := c.Locals(localViaCookie).(bool)
	return via
}

package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// authenticate guards /api/*: it resolves the caller from the session and nothing after it
// runs without one. Every refusal is the same ErrUnauthenticated, so the 401 body never
// hints at which check failed; a client that keeps failing gets 429 instead (see
// authLimiter), whatever it presents, until its budget refills.
func (s *Server) authenticate(c *fiber.Ctx) error {
	uid, viaCookie, err := s.resolveSession(c)
	if err != nil {
		if s.limiter != nil && errors.Is(err, ports.ErrUnauthenticated) {
			if limited := s.limiter.fail(c.Context().RemoteIP()); limited != nil {
				return limited
			}
		}
		return err
	}
	c.Locals(localUser, uid)
	c.Locals(localViaCookie, viaCookie)
	c.Set(fiber.HeaderCacheControl, "no-store") // per-user data must not sit in shared caches
	return c.Next()
}

// resolveSession returns the caller the request's session belongs to.
func (s *Server) resolveSession(c *fiber.Ctx) (user.ID, bool, error) {
	proof, viaCookie := s.sessionProof(c)
	if proof == (ports.SessionProof{}) {
		return user.ID{}, false, ports.ErrUnauthenticated // nothing presented: no reason to ask the database
	}
	c.Locals(localSecrets, secretsOf(proof))
	uid, err := s.verifier.Verify(c.UserContext(), proof)
	if err != nil {
		return user.ID{}, false, verifyError(err)
	}
	if uid.IsZero() {
		return user.ID{}, false, ports.ErrUnauthenticated // a verifier bug must not mean "no user, all rows"
	}
	return uid, viaCookie, nil
}

// sessionProof picks what the client presented: a bearer token if there is one, else the
// first configured session cookie that is present. Values are passed on exactly as
// received (the cookie still URL-encoded) and copied, because the verifier may keep them
// beyond this request while Fiber reuses the request's memory.
func (s *Server) sessionProof(c *fiber.Ctx) (proof ports.SessionProof, viaCookie bool) {
	if tok, ok := bearerToken(c.Get(fiber.HeaderAuthorization)); ok {
		return ports.SessionProof{Bearer: strings.Clone(tok)}, false
	}
	// fasthttp keeps cookies in the order sent and returns the first of a repeated name,
	// which is how Better Auth (better-call's parseCookies) reads them too.
	for _, name := range s.cfg.SessionCookieNames {
		if v := c.Cookies(name); v != "" {
			return ports.SessionProof{Cookie: strings.Clone(v)}, true
		}
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

// verifyError keeps the verifier's infrastructure failures (503/504) and collapses every
// other failure: any refusal becomes the bare ErrUnauthenticated, and an unexpected error
// loses its chain so that it cannot match a 4xx rule and leak why a session failed.
func verifyError(err error) error {
	switch {
	case errors.Is(err, ports.ErrUnauthenticated):
		return ports.ErrUnauthenticated
	case errors.Is(err, ports.ErrTimeout), errors.Is(err, ports.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("verify session: %w", err)
	default:
		return fmt.Errorf("verify session: %v", err) //nolint:errorlint // the chain is cut on purpose
	}
}

// secretsOf lists the forms of the proof a dependency might quote in an error: as sent,
// URL-decoded, and the bare session token before the signature.
func secretsOf(p ports.SessionProof) []string {
	raw := p.Bearer + p.Cookie // exactly one is set
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

// userOf is the authenticated caller; authenticate guarantees it on /api/* routes.
func userOf(c *fiber.Ctx) user.ID {
	uid, _ := c.Locals(localUser).(user.ID)
	return uid
}

func cookieAuthenticated(c *fiber.Ctx) bool {
	via, _ := c.Locals(localViaCookie).(bool)
	return via
}

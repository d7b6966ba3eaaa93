package httpadapter

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// Observer hears what the server does, for metrics. Every label it is given is bounded: a
// route is a template such as /api/credentials/:id (or "unmatched"), never a path with an
// id in it; no user, token or account ever reaches it.
type Observer interface {
	// Request is called once per answered request.
	Request(method, route string, status int, elapsed time.Duration)
	// Authentication is called once per request that presented, or lacked, a session on an
	// authenticated route, with one of the Auth* outcomes.
	Authentication(outcome string)
}

// Authentication outcomes. The store's reasons (ports.SessionUnknown, ports.SessionExpired,
// ports.SessionBanned) complete the list.
const (
	AuthOK            = "ok"
	AuthNoCredentials = "no_credentials"
	AuthBadSignature  = "bad_signature"
)

// unmatchedRoute labels a request no route has, so a scan of random paths adds no label.
const unmatchedRoute = "unmatched"

// routeTemplate is the route pattern a request was served by: the router's own when a
// route handler ran, else the pattern its path matches (a 401 or 403 answered by the /api
// middleware, a 405), else unmatchedRoute.
func (s *Server) routeTemplate(c *fiber.Ctx) string {
	if r := c.Route(); r != nil {
		if _, ok := s.allow[r.Path]; ok {
			return r.Path
		}
	}
	best, bestParams := "", -1
	segs := splitPath(c.Path())
	for pattern := range s.allow {
		if !matchSegments(splitPath(pattern), segs) {
			continue
		}
		params := strings.Count(pattern, "/:")
		// The most literal pattern wins, as in the router (/api/credentials/store over :id).
		if bestParams < 0 || params < bestParams || (params == bestParams && pattern < best) {
			best, bestParams = pattern, params
		}
	}
	if best == "" {
		return unmatchedRoute
	}
	return best
}

// methodLabel keeps the method label to the methods HTTP defines. It returns the constant,
// never m: Fiber's method string is the request's reused buffer, and a label outlives it.
func methodLabel(m string) string {
	for _, known := range knownMethods {
		if m == known {
			return known
		}
	}
	return "other"
}

var knownMethods = []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodDelete,
	fiber.MethodPatch, fiber.MethodOptions}

// noteAuthFailure records why an authenticated route refused the request, for the
// Observer; the store's reason comes with its error.
func noteAuthFailure(c *fiber.Ctx, err error) {
	if _, set := c.Locals(localAuthOutcome).(string); set {
		return // the edge said why already
	}
	reason := ports.SessionUnknown
	var refused *ports.SessionRefusedError
	if errors.As(err, &refused) {
		reason = refused.Reason
	}
	c.Locals(localAuthOutcome, reason)
}

// authOutcome is the request's authentication outcome, or "" for a request that never
// reached authentication (a probe, a preflight) or whose session was never resolved (a
// request refused for its input before it reached the store).
func authOutcome(c *fiber.Ctx) string {
	if o, ok := c.Locals(localAuthOutcome).(string); ok {
		return o
	}
	if sess, ok := c.Locals(localSession).(user.Session); ok {
		if _, resolved := sess.User(); resolved {
			return AuthOK
		}
	}
	return ""
}

package httpadapter

import (
	"github.com/gofiber/fiber/v2"
)

// csrf refuses state-changing requests that a browser could have been tricked into
// sending: those authenticated by the ambient session cookie. They must carry an Origin
// from the allow list; a missing Origin, "null" (sandboxed frames, some redirects) or any
// other origin is refused. Bearer-authenticated requests are exempt: a page cannot make a
// browser attach someone's bearer token. Runs after authenticate, so an anonymous request
// is a 401 first.
func (s *Server) csrf(c *fiber.Ctx) error {
	if safeMethod(c.Method()) || !cookieAuthenticated(c) {
		return c.Next()
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return &clientError{errForbiddenOrigin, "A cookie-authenticated write must carry an Origin header."}
	}
	if !s.originAllowed(origin) {
		return &clientError{errForbiddenOrigin, "The request's origin may not make this request."}
	}
	return c.Next()
}

// safeMethod reports the methods that must not change state, so need no CSRF check.
func safeMethod(m string) bool {
	switch m {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return true
	}
	return false
}

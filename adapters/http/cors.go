package httpadapter

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// CORS is written out rather than taken from Fiber's middleware, whose empty origin list
// means "*": here an empty list means no cross-origin access at all, and only origins from
// the list are ever echoed, always with credentials and never as "*".
const (
	corsAllowHeaders  = "Authorization, Content-Type, X-Request-Id"
	corsExposeHeaders = "Retry-After, X-Request-Id" // nothing secret: ids and retry hints
	corsMaxAge        = "600"
)

// cors adds the CORS headers for allowed origins and answers preflights itself, before
// authentication: browsers send preflights without credentials. A preflight advertises
// the methods of the route it asks about, and one for a path no route has is a 404 with
// no CORS headers. A preflight from an origin not on the list gets 204 without
// Access-Control-Allow-Origin, which the browser treats as a refusal.
func (s *Server) cors(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	if c.Method() != fiber.MethodOptions || c.Get(fiber.HeaderOrigin) == "" ||
		c.Get(fiber.HeaderAccessControlRequestMethod) == "" {
		s.setCORSHeaders(c)
		return c.Next()
	}
	methods := s.allowMethods(c.Path())
	if methods == nil {
		return fiber.ErrNotFound
	}
	c.Vary(fiber.HeaderAccessControlRequestMethod, fiber.HeaderAccessControlRequestHeaders)
	if s.setCORSHeaders(c) {
		c.Set(fiber.HeaderAccessControlAllowMethods, strings.Join(methods, ", "))
		c.Set(fiber.HeaderAccessControlAllowHeaders, corsAllowHeaders)
		c.Set(fiber.HeaderAccessControlMaxAge, corsMaxAge)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// setCORSHeaders sets the response headers every CORS response from an allowed origin
// needs, and reports whether the origin is allowed.
func (s *Server) setCORSHeaders(c *fiber.Ctx) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" || !s.originAllowed(origin) {
		return false
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin) // Set copies the bytes
	c.Set(fiber.HeaderAccessControlAllowCredentials, "true")
	c.Set(fiber.HeaderAccessControlExposeHeaders, corsExposeHeaders)
	return true
}

// originAllowed compares exactly, up to the case of scheme and host (which browsers
// always send in lower case anyway). "null" never matches: Validate refuses it in config.
func (s *Server) originAllowed(origin string) bool {
	_, ok := s.origins[strings.ToLower(origin)]
	return ok
}

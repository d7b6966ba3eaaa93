package httpadapter

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// CORS is written out rather than taken from Fiber's middleware, whose empty origin list
// means "*": here an empty list means no cross-origin access at all, and only origins from
// the list are ever echoed, always with credentials and never as "*".
const (
	corsAllowMethods  = "GET, POST, PUT, PATCH, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, X-Request-Id"
	corsExposeHeaders = "Retry-After, X-Request-Id" // nothing secret: ids and retry hints
	corsMaxAge        = "600"
)

// cors adds the CORS headers for allowed origins and answers preflights itself, before
// authentication: browsers send preflights without credentials. A preflight from an origin
// not on the list gets 204 without Access-Control-Allow-Origin, which the browser treats
// as a refusal.
func (s *Server) cors(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	allowed := s.setCORSHeaders(c)
	if c.Method() != fiber.MethodOptions || c.Get(fiber.HeaderOrigin) == "" ||
		c.Get(fiber.HeaderAccessControlRequestMethod) == "" {
		return c.Next()
	}
	c.Vary(fiber.HeaderAccessControlRequestMethod, fiber.HeaderAccessControlRequestHeaders)
	if allowed {
		c.Set(fiber.HeaderAccessControlAllowMethods, corsAllowMethods)
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

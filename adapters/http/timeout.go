package httpadapter

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// deadline bounds every request: the session check and the use cases get c.UserContext(),
// which ends after RequestTimeout, so a stuck database becomes a 504 instead of a hung
// request. Fiber does not cancel the context when the client goes away (gofiber/fiber
// #1160), so this deadline is the only bound.
func (s *Server) deadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

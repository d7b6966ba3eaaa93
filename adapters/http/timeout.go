package httpadapter

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/ports"
)

// deadline bounds every request: the session check and the use cases get c.UserContext(),
// which ends after RequestTimeout, so a stuck database becomes a 504 instead of a hung
// request. Fiber does not cancel the context when the client goes away (gofiber/fiber
// #1160), so this deadline is the only bound. The context also carries the request id, for
// what the use cases record (the credential audit trail).
func (s *Server) deadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(ports.WithRequestID(c.UserContext(), requestID(c)), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

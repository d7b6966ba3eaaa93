package httpadapter

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
)

// readyTimeout bounds one readiness check, so a black-holed database fails the probe
// instead of hanging it.
const readyTimeout = time.Second

// live answers /healthz and /livez: the process is up. It touches nothing else, so a
// database outage never gets the process restarted.
func (s *Server) live(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers /readyz: 200 when the dependencies answer, 503 when they do not or when
// shutdown has begun (so the load balancer stops sending traffic).
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.draining.Load() {
		return fmt.Errorf("%w: shutting down", errNotReady)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("%w: %w", errNotReady, err)
	}
	if s.draining.Load() {
		return fmt.Errorf("%w: shutting down", errNotReady)
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

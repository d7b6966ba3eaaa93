package httpadapter

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// edgeState is what the server needs for the requests that never reach the middleware
// chain: fasthttp answers some itself (a body over the limit, oversized headers, a read
// timeout, an unparsable request), and Fiber answers a method it does not know.
type edgeState struct {
	methods map[string]struct{} // the methods the router knows
	starts  requestStarts
}

// errUnknownMethod answers a method the router does not know at all ("FOO /api/accounts").
var errUnknownMethod = fiber.NewError(fiber.StatusBadRequest, "unknown method")

// guardEdges puts the security headers on every response the router writes, answers
// unknown methods with problem JSON (Fiber would answer them in plain text before any
// middleware), and tracks when each request began to arrive, for the log.
func (s *Server) guardEdges() {
	srv := s.app.Server()
	s.edge.methods = make(map[string]struct{}, len(s.app.Config().RequestMethods))
	for _, m := range s.app.Config().RequestMethods {
		s.edge.methods[m] = struct{}{}
	}
	next := srv.Handler
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		setSecurityHeaders(&ctx.Response.Header)
		if _, known := s.edge.methods[string(ctx.Method())]; !known {
			c := s.app.AcquireCtx(ctx)
			defer s.app.ReleaseCtx(c)
			_ = s.handleError(c, errUnknownMethod)
			return
		}
		next(ctx)
	}
	srv.ConnState = s.edge.starts.hook(srv.ConnState)
}

// refusedEarly is Fiber's ErrorHandler. requestLog answers every error of the middleware
// chain itself, so what reaches this is what fasthttp refused while reading the request.
func (s *Server) refusedEarly(c *fiber.Ctx, err error) error {
	setSecurityHeaders(&c.Context().Response.Header)
	var fe *fiber.Error
	if requestID(c) == "" && errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge {
		s.drainRefusedBody(c)
	}
	return s.handleError(c, err)
}

// setSecurityHeaders sets the cheap defaults of a JSON API that browsers call.
func setSecurityHeaders(h *fasthttp.ResponseHeader) {
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

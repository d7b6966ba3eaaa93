// Package httpadapter is the HTTP edge of the service: a Fiber app that authenticates the
// caller, refuses cross-site writes, decodes JSON, calls the use cases and answers with the
// JSON shapes of the API contract (and problem JSON for every failure).
package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	fiberrecover "github.com/gofiber/fiber/v2/middleware/recover"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/app"
	"github.com/brokerly/accounts/ports"
)

// Defaults for a zero Config field.
const (
	DefaultBodyLimit      = 64 << 10
	DefaultReadTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultRequestTimeout = 5 * time.Second
)

// maxHeaderBytes bounds the request line plus headers. Fiber's 4 KiB default is too small
// for Better Auth: its chunked session_data cookie cache alone can be about 4 KiB, and Node
// (which serves the same cookies today) allows 16 KiB.
const maxHeaderBytes = 16 << 10

// Config is the HTTP adapter's part of the service configuration.
type Config struct {
	// AllowedOrigins are the exact browser origins (scheme://host[:port]) that may call the
	// API with credentials, and the only ones whose cookie-authenticated writes are accepted.
	AllowedOrigins []string
	// SessionCookieName is the one cookie a session is read from (empty: bearer tokens only).
	SessionCookieName string
	// BodyLimit in bytes; larger bodies get 413 before they are read.
	BodyLimit    int
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// RequestTimeout is the deadline every use case (and the session check) runs under.
	RequestTimeout time.Duration
	// AuthFailureRate and AuthFailureBurst limit failed authentication (401s) per client
	// IP with a token bucket: Burst failures at once, then Rate per second; past that the
	// client gets 429 until it has earned a token back. Authenticated requests are never
	// limited. Zero takes the defaults; DisableAuthFailureLimit turns the limit off.
	AuthFailureRate         float64
	AuthFailureBurst        int
	DisableAuthFailureLimit bool
	// MaxConns bounds the connections open at once, and MaxConnsPerIP those of one client
	// IP (IPv6: its /64); zero means no bound. A connection past either bound is closed as
	// soon as it is accepted. See listener.go.
	MaxConns      int
	MaxConnsPerIP int
	// DisableAccessLog drops the per-request log line of every request answered below 500
	// (benchmarks, very busy instances); errors and warnings are still logged.
	DisableAccessLog bool
	// Observer, if set, hears every request and authentication outcome (metrics).
	Observer Observer
}

// Validate reports configuration that would make the server insecure or useless. NewServer
// panics on it, so callers that read configuration from the environment should call
// Validate first and fail with a readable message.
func (c Config) Validate() error {
	var errs []error
	for _, o := range c.AllowedOrigins {
		if _, err := normalizeOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	if n := c.SessionCookieName; strings.ContainsAny(n, " \t\r\n;=,\"") {
		errs = append(errs, fmt.Errorf("http: invalid session cookie name %q", n))
	}
	if c.BodyLimit < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 || c.RequestTimeout < 0 ||
		c.AuthFailureRate < 0 || c.AuthFailureBurst < 0 || math.IsNaN(c.AuthFailureRate) || math.IsInf(c.AuthFailureRate, 0) {
		errs = append(errs, errors.New("http: limits and timeouts must not be negative"))
	}
	if c.MaxConns < 0 || c.MaxConnsPerIP < 0 {
		errs = append(errs, errors.New("http: connection bounds must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.BodyLimit == 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.AuthFailureRate == 0 {
		c.AuthFailureRate = DefaultAuthFailureRate
	}
	if c.AuthFailureBurst == 0 {
		c.AuthFailureBurst = DefaultAuthFailureBurst
	}
	return c
}

// normalizeOrigin accepts only a serialized origin, so that a configured "*", "null" or a
// URL with a path can never turn into a wildcard or a prefix match.
func normalizeOrigin(o string) (string, error) {
	o = strings.TrimSuffix(strings.TrimSpace(o), "/")
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return "", fmt.Errorf("http: allowed origin %q is not scheme://host[:port]", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Readiness reports whether the service can do its work (database reachable and migrated,
// keys loaded). It is called with a short deadline by GET /readyz.
type Readiness func(ctx context.Context) error

// Server is the Fiber app plus what its handlers need.
type Server struct {
	cfg      Config
	app      *fiber.App
	uc       app.Application
	verifier ports.SessionVerifier
	ready    Readiness
	log      *zap.Logger
	origins  map[string]struct{}
	edge     edgeState
	allow    map[string][]string // path → methods, for the Allow header of a 405
	limiter  *authLimiter        // nil when the failed-authentication limit is off
	draining atomic.Bool
	serving  serving
}

// NewServer builds the app with every route and middleware. It panics when cfg is invalid
// (see Config.Validate) or a dependency is missing: both are wiring bugs, not bad input.
func NewServer(cfg Config, application app.Application, verifier ports.SessionVerifier, ready Readiness, log *zap.Logger) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if verifier == nil {
		panic("http: NewServer needs a session verifier")
	}
	if log == nil {
		log = zap.NewNop()
	}
	if ready == nil {
		ready = func(context.Context) error { return nil }
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:      cfg,
		uc:       application,
		verifier: verifier,
		ready:    ready,
		log:      log,
		origins:  map[string]struct{}{},
		allow:    map[string][]string{},
	}
	if !cfg.DisableAuthFailureLimit {
		s.limiter = newAuthLimiter(cfg.AuthFailureRate, cfg.AuthFailureBurst)
	}
	for _, o := range cfg.AllowedOrigins {
		n, _ := normalizeOrigin(o) // validated above
		s.origins[n] = struct{}{}
	}
	s.app = fiber.New(fiber.Config{
		ErrorHandler:          s.refusedEarly,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ReadBufferSize:        maxHeaderBytes,
		DisableStartupMessage: true,
		CaseSensitive:         true,
		// The API reads only JSON; without this fasthttp parses multipart bodies while
		// reading them, before any middleware, and answers malformed ones itself.
		DisablePreParseMultipartForm: true,
		// ProxyHeader stays empty and EnableTrustedProxyCheck false: c.IP() is the socket
		// peer, so X-Forwarded-For cannot spoof it (CVE-2023-41338).
	})
	s.routes()
	return s
}

// routes wires the middleware chain. The order is the order of the checks: request id and
// logging, panic recovery, CORS (answers preflights), deadline, then for /api/* the session
// (401 first), then, once a route has matched, CSRF (403), and in the handler the content
// type (415) and the body.
func (s *Server) routes() {
	s.guardEdges()
	s.app.Use(s.requestLog, s.recoverPanics(), s.cors, s.deadline)

	s.get("/healthz", s.live)
	s.get("/livez", s.live)
	s.get("/readyz", s.readyz)
	s.get("/openapi.json", s.openAPIDocument)
	s.get("/docs", s.docs)
	s.get("/docs/assets/:asset", s.docsAsset)

	api := s.app.Group("/api", s.authenticate)
	s.handle(api, fiber.MethodGet, "/accounts", s.listAccounts)
	s.handle(api, fiber.MethodPost, "/accounts", s.createAccount)
	s.handle(api, fiber.MethodPost, "/accounts/get-or-create", s.getOrCreateAccount)
	s.handle(api, fiber.MethodPost, "/credentials/store", s.storeCredential)
	s.handle(api, fiber.MethodGet, "/credentials", s.listCredentials)
	s.handle(api, fiber.MethodPut, "/credentials/:id", s.updateCredential)
	s.handle(api, fiber.MethodDelete, "/credentials/:id", s.deleteCredential)
	s.handle(api, fiber.MethodPost, "/credentials/:id/validate", s.validateCredential)
	s.handle(api, fiber.MethodGet, "/credentials/:id/account-data", s.accountData)
	s.handle(api, fiber.MethodGet, "/credentials/:id/events", s.credentialEvents)
}

func (s *Server) get(path string, h fiber.Handler) { s.handle(s.app, fiber.MethodGet, path, h) }

// handle registers a route and remembers its method for the Allow header of a 405 (and
// CORS preflights). The CSRF check is the first handler of the route itself, not
// middleware: a request no route takes (a 404, or a 405 for a method the route lacks)
// gets that answer, never a 403 first.
func (s *Server) handle(r fiber.Router, method, path string, h fiber.Handler) {
	r.Add(method, path, s.csrf, h)
	full := path
	if g, ok := r.(*fiber.Group); ok {
		full = g.Prefix + path
	}
	s.allow[full] = append(s.allow[full], method)
	if method == fiber.MethodGet {
		r.Add(fiber.MethodHead, path, s.csrf, h)
		s.allow[full] = append(s.allow[full], fiber.MethodHead)
	}
}

// recoverPanics turns a panic into a 500 (never a dropped connection). The stack goes
// into the request's log line, not to stderr and never into the response.
func (s *Server) recoverPanics() fiber.Handler {
	return fiberrecover.New(fiberrecover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, _ any) {
			c.Locals(localPanicStack, string(debug.Stack()))
		},
	})
}

// App exposes the Fiber app, for app.Test in tests and for mounting.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown, through a listener that outlives running out
// of descriptors and bounds the open connections (listener.go). It returns nil after
// Shutdown, and an error whenever it stops serving for any other reason: the caller must
// then stop the process, which can no longer answer.
func (s *Server) Serve(ln net.Listener) error {
	l, err := s.serving.start(ln, s.cfg, s.app.Server(), s.log)
	if l == nil {
		return err // nil when Shutdown came first
	}
	err = s.app.Listener(l)
	if err == nil && !s.serving.stopping.Load() {
		err = errStoppedServing
	}
	return err
}

// BeginDrain turns /readyz to 503 while the server keeps serving, so that a caller can
// wait out a drain period (load balancers noticing) before Shutdown closes the listener.
func (s *Server) BeginDrain() { s.draining.Store(true) }

// Shutdown turns /readyz to 503 at once, closes the listener, and waits (until ctx ends)
// for every connection to close without losing a request: from then on each answer
// carries Connection: close, and a connection is closed by the server only while it waits
// between requests (serving.go). At ctx's end the remaining connections are closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.BeginDrain()
	err := s.serving.stop(ctx)
	if ferr := s.app.ShutdownWithContext(ctx); ferr != nil && err == nil {
		err = fmt.Errorf("http: shutdown: %w", ferr)
	}
	return err
}

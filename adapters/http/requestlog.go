package httpadapter

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/brokerly/accounts/ports"
)

// localKey keys this package's values in fiber.Ctx.Locals, so no other middleware can
// collide with them.
type localKey int

const (
	localRequestID localKey = iota
	localSession
	localViaCookie
	localError
	localPanicStack
	localSecrets     // the presented ports.SessionProof, only to redact it from logged errors
	localAuthOutcome // why authentication failed, for the Observer
)

const headerRequestID = "X-Request-Id"

// requestLog gives the request its id, runs the rest of the chain, answers any error
// through the error handler (so that the final status is known) and writes one log line.
func (s *Server) requestLog(c *fiber.Ctx) error {
	assignRequestID(c)
	if err := c.Next(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	s.logRequest(c)
	return nil
}

// Request ids this process makes: a random prefix drawn at start, then a counter. Unique
// without a random draw per request; nothing about a request id needs to be secret.
var (
	requestIDPrefix = func() [8]byte {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		return b
	}()
	requestIDCounter atomic.Uint64
)

// newRequestID returns 32 hex characters: the prefix, then the counter.
func newRequestID() string {
	var b [16]byte
	copy(b[:8], requestIDPrefix[:])
	binary.BigEndian.PutUint64(b[8:], requestIDCounter.Add(1))
	return hex.EncodeToString(b[:])
}

// assignRequestID keeps a well-formed incoming X-Request-Id (so a trace can cross services)
// and replaces anything else, which could otherwise inject into logs.
func assignRequestID(c *fiber.Ctx) {
	id := c.Get(headerRequestID)
	if validRequestID(id) {
		id = strings.Clone(id) // Fiber reuses the header's memory after the handler
	} else {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	c.Set(headerRequestID, id)
}

// validRequestID is ^[A-Za-z0-9._-]{1,64}$ without a regexp.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// logRequest writes the request's one line, and tells the Observer. It logs no query
// string, header, cookie or body: those are where sessions and secrets travel, and the
// route template says what was asked without the ids in the path. A 5xx carries its error,
// the only place that error is logged; with the access log off only those lines are
// written.
func (s *Server) logRequest(c *fiber.Ctx) {
	status := c.Response().StatusCode()
	elapsed := time.Since(s.requestStart(c))
	route := "" // found only when something reports it
	if s.cfg.Observer != nil {
		route = s.routeTemplate(c)
		s.cfg.Observer.Request(methodLabel(c.Method()), route, status, elapsed)
		if outcome := authOutcome(c); outcome != "" {
			s.cfg.Observer.Authentication(outcome)
		}
	}
	level := zapcore.InfoLevel
	if status >= 500 {
		level = zapcore.ErrorLevel
	} else if s.cfg.DisableAccessLog {
		return
	}
	line := s.log.Check(level, "request")
	if line == nil {
		return // below the configured level: build nothing
	}
	if route == "" {
		route = s.routeTemplate(c)
	}
	fields := make([]zap.Field, 0, 10)
	fields = append(fields,
		zap.String("request_id", requestID(c)),
		zap.String("method", strings.Clone(c.Method())),
		zap.String("route", route),
		zap.Int("status", status),
		zap.Duration("latency", elapsed),
		zap.String("remote_ip", c.Context().RemoteIP().String()), // the socket peer, never X-Forwarded-For
	)
	// The user the request's transaction resolved the session to, if it got that far.
	if uid, ok := sessionOf(c).User(); ok {
		fields = append(fields, zap.String("user_id", uid.String()))
	}
	if err, ok := c.Locals(localError).(error); ok {
		fields = append(fields, zap.String("error", redact(err.Error(), c)))
		if errors.Is(err, ports.ErrUndecryptable) {
			// A stored secret that does not open was tampered with or moved, or its key is
			// gone: worth an alert, not just an error count.
			fields = append(fields, zap.String("security_event", "undecryptable_secret"))
		}
	}
	if stack, ok := c.Locals(localPanicStack).(string); ok {
		fields = append(fields, zap.String("stack", stack))
	}
	line.Write(fields...)
}

// redact removes the presented session proof from an error message before it is logged,
// in case a dependency quoted it.
func redact(msg string, c *fiber.Ctx) string {
	proof, _ := c.Locals(localSecrets).(ports.SessionProof)
	for _, sec := range secretsOf(proof) {
		if len(sec) >= 4 { // shorter strings are too likely to occur by chance
			msg = strings.ReplaceAll(msg, sec, "[REDACTED]")
		}
	}
	return msg
}

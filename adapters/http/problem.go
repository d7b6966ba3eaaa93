package httpadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// Problem is an RFC 9457 problem document; every error response has this shape.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Code   string       `json:"code"`
	Errors []FieldError `json:"errors,omitempty"`
	// Instance is the request's id (X-Request-Id), as in the log line: what to quote when
	// asking what happened.
	Instance string `json:"instance,omitempty"`
}

// FieldError names the input field that broke a rule.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Errors this adapter raises itself; the table below maps them like the domain's.
var (
	errMalformedJSON        = errors.New("malformed JSON body")
	errUnsupportedMediaType = errors.New("unsupported media type")
	errForbiddenOrigin      = errors.New("origin not allowed")
	errNotReady             = errors.New("not ready")
)

// clientError gives one of the sentinels above a specific detail that is safe to show the
// client: it is written by this package, never copied from input or from a dependency.
type clientError struct {
	kind   error
	detail string
}

func (e *clientError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *clientError) Unwrap() error { return e.kind }

// retryAfter is the Retry-After for 503 and 504, in seconds: short, because the causes
// (a database restart, a dropped connection) are over within seconds and the readiness
// probe takes the instance out of rotation if they are not.
const retryAfter = "1"

type problemRule struct {
	match  func(error) bool
	status int
	code   string
	detail string // generic; a clientError or a ValidationError supplies a specific one
}

// problemRules is the one table from errors to responses. The first match wins, so the
// order matters: readiness and authentication before anything a use case could return,
// and the specific timeout before the generic unavailable.
var problemRules = []problemRule{
	{is(errNotReady), 503, "unavailable", "The service is not ready to take requests."},
	{is(ports.ErrUnauthenticated), 401, "unauthenticated", "A valid session is required."},
	{is(errRateLimited), 429, "rate_limited", "Too many failed authentication attempts; try again later."},
	{is(ports.ErrRateLimited), 429, "rate_limited", "Too many broker requests for this user; try again later."},
	{isValidation, 422, "validation_failed", "The request has invalid fields."},
	{is(domain.ErrAlreadyExists), 409, "account_exists", "The user already has an account."},
	{is(credential.ErrLimitReached), 409, "credential_limit", "The account holds as many credentials as it may; delete one first."},
	{is(domain.ErrNotFound), 404, "not_found", "The resource does not exist."},
	{is(credential.ErrEmptyChange), 400, "empty_update", "Give at least one of api_key, secret_key, is_active or nickname."},
	{is(credential.ErrInactive), 400, "credential_inactive", "The credential is inactive; activate it first."},
	// A key the broker refuses is an answer for validate (is_valid: false), but account
	// data has nothing to show: both broker outcomes are a bad gateway there.
	{is(ports.ErrBrokerRejected), 502, "broker_error", "The broker rejected the credentials."},
	// Alpaca's own limit (per broker account, shared with the user's trading) is the
	// broker being unavailable for a while, not this user asking too much of us.
	{is(ports.ErrBrokerRateLimited), 503, "broker_rate_limited", "The broker's rate limit for these credentials is reached; try again later."},
	{is(ports.ErrBrokerFailed), 502, "broker_error", "The broker could not be reached; try again later."},
	{is(errMalformedJSON), 400, "malformed_json", "The request body must be one JSON object."},
	{is(errUnsupportedMediaType), 415, "unsupported_media_type", "The request body must be sent as application/json."},
	{is(errForbiddenOrigin), 403, "forbidden_origin", "The request's origin may not make this request."},
	{is(user.ErrImpersonated), 403, "impersonation_forbidden", "An impersonated session may read but not change or use broker credentials."},
	// Timeouts keep the contract's code "unavailable": clients branch on the code, and the
	// status (504 rather than 503) already tells the two apart.
	{is(ports.ErrTimeout), 504, "unavailable", "The request took too long; try again."},
	{is(ports.ErrUnavailable), 503, "unavailable", "The service is temporarily unavailable; try again."},
	{is(context.DeadlineExceeded), 504, "unavailable", "The request took too long; try again."},
	{is(context.Canceled), 503, "unavailable", "The service is temporarily unavailable; try again."},
	{fiberCode(fiber.StatusNotFound), 404, "not_found", "No route matches the request."},
	{fiberCode(fiber.StatusMethodNotAllowed), 405, "method_not_allowed", "The route does not support this method."},
	{fiberCode(fiber.StatusRequestEntityTooLarge), 413, "payload_too_large", "The request body is too large."},
	{fiberCode(fiber.StatusRequestHeaderFieldsTooLarge), 431, "headers_too_large", "The request headers are too large."},
	{fiberCode(fiber.StatusRequestTimeout), 408, "request_timeout", "The request was not received in time."},
	{fiberClientError, 400, "bad_request", "The request is malformed."},
}

// internalRule answers everything the table does not know: the details go to the log only.
var internalRule = problemRule{status: 500, code: "internal", detail: "An unexpected error occurred."}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func isValidation(err error) bool {
	var v *domain.ValidationError
	return errors.As(err, &v)
}

func fiberCode(code int) func(error) bool {
	return func(err error) bool {
		var fe *fiber.Error
		return errors.As(err, &fe) && fe.Code == code
	}
}

// fiberClientError catches the remaining 4xx Fiber and fasthttp raise for requests they
// cannot parse; their messages may quote the input, so only the status is kept.
func fiberClientError(err error) bool {
	var fe *fiber.Error
	return errors.As(err, &fe) && fe.Code >= 400 && fe.Code < 500
}

// problemFor builds the response for err from the table.
func problemFor(err error) Problem {
	rule := internalRule
	for _, r := range problemRules {
		if r.match(err) {
			rule = r
			break
		}
	}
	p := Problem{
		Type:   "about:blank",
		Title:  http.StatusText(rule.status),
		Status: rule.status,
		Detail: rule.detail,
		Code:   rule.code,
	}
	if rule.code == "bad_request" {
		var fe *fiber.Error
		errors.As(err, &fe)
		p.Status, p.Title = fe.Code, http.StatusText(fe.Code)
	}
	var ce *clientError
	if rule.status < 500 && errors.As(err, &ce) {
		p.Detail = ce.detail
	}
	if rule.code == "validation_failed" {
		p.Errors = fieldErrors(err)
		if len(p.Errors) == 1 {
			p.Detail = p.Errors[0].Field + " " + p.Errors[0].Message
		}
	}
	return p
}

// fieldErrors collects every ValidationError in err's tree, so that a joined error reports
// all its fields at once.
func fieldErrors(err error) []FieldError {
	var out []FieldError
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case nil:
		case *domain.ValidationError:
			out = append(out, FieldError{Field: x.Field, Message: x.Message})
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// handleError is Fiber's ErrorHandler: every failure, from a handler, a middleware or
// fasthttp itself, is answered here from the table.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	// fasthttp reports requests it refused (413, 431, unparsable) straight to the error
	// handler: no middleware ran, so give them a request id, CORS headers and a log line here.
	early := requestID(c) == ""
	if early {
		assignRequestID(c)
		s.setCORSHeaders(c)
	}
	err = s.sessionFirst(c, err)
	if errors.Is(err, ports.ErrUnauthenticated) {
		noteAuthFailure(c, err)
		// Every 401 counts against the client, whether the signature failed at the edge or
		// the transaction found no live session for it.
		if s.limiter != nil {
			if limited := s.limiter.fail(c.Context().RemoteIP()); limited != nil {
				err = limited
			}
		}
	}
	p := problemFor(err)
	p.Instance = requestID(c)
	if p.Status >= 500 {
		c.Locals(localError, err) // for the request log line, the only place it is logged
	}
	switch p.Status {
	case fiber.StatusUnauthorized:
		c.Set(fiber.HeaderWWWAuthenticate, "Bearer")
	case fiber.StatusServiceUnavailable, fiber.StatusGatewayTimeout:
		var busy *ports.BrokerBusyError
		if errors.As(err, &busy) {
			c.Set(fiber.HeaderRetryAfter, retryAfterSeconds(busy.RetryAfter))
		} else {
			c.Set(fiber.HeaderRetryAfter, retryAfter)
		}
	case fiber.StatusTooManyRequests:
		var limited *rateLimitedError
		var spent *ports.RateLimitedError
		switch {
		case errors.As(err, &limited):
			c.Set(fiber.HeaderRetryAfter, limited.retryAfterSeconds())
		case errors.As(err, &spent):
			c.Set(fiber.HeaderRetryAfter, retryAfterSeconds(spent.RetryAfter))
		}
	case fiber.StatusMethodNotAllowed:
		if methods := s.allowMethods(c.Path()); len(methods) > 0 {
			c.Set(fiber.HeaderAllow, strings.Join(methods, ", "))
		}
	}
	body, merr := json.Marshal(p)
	if merr != nil {
		return fmt.Errorf("encode problem: %w", merr) // cannot happen: Problem has only plain fields
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "application/problem+json")
	serr := c.Status(p.Status).Send(body)
	if early {
		s.logRequest(c)
	}
	return serr
}

// sessionCheckTimeout bounds sessionFirst's one round trip.
const sessionCheckTimeout = time.Second

// sessionFirst answers 401 instead of the request's own 4xx when the session it carried
// resolves to no one: a request refused for its input (or its origin, or its route) is
// refused for its session first, exactly as if the session had been checked before
// anything else. Only this path pays for the check, one round trip; a request that reached
// a repository had its session resolved there.
func (s *Server) sessionFirst(c *fiber.Ctx, err error) error {
	sess, ok := c.Locals(localSession).(user.Session)
	if !ok || sess.IsZero() {
		return err
	}
	if _, resolved := sess.User(); resolved {
		return err
	}
	if st := problemFor(err).Status; st < 400 || st >= 500 || st == fiber.StatusUnauthorized || st == fiber.StatusTooManyRequests {
		return err
	}
	// The request's own context has ended with its handler chain; the check gets a short one.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), sessionCheckTimeout)
	defer cancel()
	if _, cerr := s.uc.Queries.CheckSession.Handle(ctx, query.CheckSession{Session: sess}); cerr != nil {
		// No one's, or the store cannot say (503/504): either way that is the answer a
		// check made first would have given.
		return cerr
	}
	return err // live: the request's own answer stands
}

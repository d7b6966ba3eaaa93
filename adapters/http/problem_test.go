package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/ports"
)

func TestProblemFor_Table(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("create: %w", domain.Invalid("account_name", "must not be empty")), 422, "validation_failed"},
		{fmt.Errorf("create: %w", domain.ErrAlreadyExists), 409, "account_exists"},
		{fmt.Errorf("get: %w", domain.ErrNotFound), 404, "not_found"},
		{ports.ErrUnauthenticated, 401, "unauthenticated"},
		{fmt.Errorf("list: %w", ports.ErrUnavailable), 503, "unavailable"},
		{fmt.Errorf("list: %w", ports.ErrTimeout), 504, "unavailable"},
		{fmt.Errorf("list: %w", context.DeadlineExceeded), 504, "unavailable"},
		{fmt.Errorf("list: %w", context.Canceled), 503, "unavailable"},
		{fmt.Errorf("%w: %w", ports.ErrTimeout, ports.ErrUnavailable), 504, "unavailable"},
		{&clientError{errMalformedJSON, "x"}, 400, "malformed_json"},
		{&clientError{errUnsupportedMediaType, "x"}, 415, "unsupported_media_type"},
		{&clientError{errForbiddenOrigin, "x"}, 403, "forbidden_origin"},
		{fmt.Errorf("%w: %w", errNotReady, ports.ErrTimeout), 503, "unavailable"},
		{fiber.ErrNotFound, 404, "not_found"},
		{fiber.NewError(404, "Cannot GET /<script>"), 404, "not_found"},
		{fiber.ErrMethodNotAllowed, 405, "method_not_allowed"},
		{fiber.ErrRequestEntityTooLarge, 413, "payload_too_large"},
		{fiber.ErrRequestHeaderFieldsTooLarge, 431, "headers_too_large"},
		{fiber.ErrRequestTimeout, 408, "request_timeout"},
		{fiber.NewError(400, "cannot parse request: <secret>"), 400, "bad_request"},
		{fiber.NewError(418, "teapot"), 418, "bad_request"},
		{fiber.ErrBadGateway, 500, "internal"},
		{errDatabaseExploded, 500, "internal"},
		{errors.New("boom"), 500, "internal"},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			p := problemFor(tc.err)
			assert.Equal(t, tc.status, p.Status)
			assert.Equal(t, tc.code, p.Code)
			assert.Equal(t, "about:blank", p.Type)
			assert.Equal(t, http.StatusText(tc.status), p.Title)
			assert.NotContains(t, p.Detail, "secret")
			assert.NotContains(t, p.Detail, "script")
			assert.NotContains(t, p.Detail, "SQLSTATE")
		})
	}
}

func TestProblemFor_CollectsEveryValidationError(t *testing.T) {
	t.Parallel()
	p := problemFor(errors.Join(domain.Invalid("a", "is bad"), fmt.Errorf("x: %w", domain.Invalid("b", "is worse"))))
	assert.Equal(t, []FieldError{{"a", "is bad"}, {"b", "is worse"}}, p.Errors)
	p = problemFor(domain.Invalid("account_name", "must not be empty"))
	assert.Equal(t, "account_name must not be empty", p.Detail)
}

// An unknown error: a generic 500 for the client, the whole story in one log line.
func TestInternalErrorIsGenericAndLoggedOnce(t *testing.T) {
	t.Parallel()
	// The store resolves the session, then the write fails.
	e := newEnv(t, withOpenFailing(fmt.Errorf("create account: %w", errDatabaseExploded)))
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA(), withHeader("X-Request-Id", "req-500")))
	body := readBody(t, resp)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.JSONEq(t, `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"An unexpected error occurred.","code":"internal","instance":"req-500"}`, string(body),
		"the request id is what to quote when asking what happened")

	entries := e.logs.FilterFieldKey("error").All()
	require.Len(t, entries, 1, "logged exactly once")
	f := entries[0].ContextMap()
	assert.Equal(t, "req-500", f["request_id"])
	assert.Equal(t, "POST", f["method"])
	assert.Equal(t, "/api/accounts", f["route"])
	assert.Equal(t, int64(500), f["status"])
	assert.Equal(t, userA.String(), f["user_id"])
	assert.Contains(t, f["error"], "SQLSTATE 42P01")
	assert.Equal(t, 1, e.logs.Len(), "one line for the request, not one per layer")
}

func TestPanicIs500AndTheServerKeepsServing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withBroken(panicking))
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerA)))
	p := requireProblem(t, resp, http.StatusInternalServerError, "internal")
	assert.NotContains(t, p.Detail, "boom")

	entries := e.logs.FilterFieldKey("stack").All()
	require.Len(t, entries, 1)
	assert.Contains(t, entries[0].ContextMap()["error"], "boom in the repository")
	assert.Contains(t, entries[0].ContextMap()["stack"], "panicking")

	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/healthz", "")).StatusCode)
}

func TestDatabaseUnavailableIs503WithRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withBroken(failing(fmt.Errorf("dial tcp 10.0.0.5:5432: %w", ports.ErrUnavailable))))
	for _, req := range []*http.Request{
		newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerA)),
		newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA()),
		newRequest(http.MethodPost, "/api/accounts/get-or-create", "", asBrowserA()),
	} {
		resp := e.do(req)
		p := requireProblem(t, resp, http.StatusServiceUnavailable, "unavailable")
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		assert.NotContains(t, p.Detail, "10.0.0.5")
	}
}

func TestDatabaseTimeoutIs504(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withBroken(failing(fmt.Errorf("acquire connection: %w", ports.ErrTimeout))))
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerA)))
	requireProblem(t, resp, http.StatusGatewayTimeout, "unavailable")
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
}

// The per-request deadline reaches the use case: a hanging database becomes a 504 in time.
func TestRequestDeadlineEndsAHangingUseCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withBroken(hanging), withRequestTimeout(100*time.Millisecond))
	start := time.Now()
	resp := e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "", withBearer(bearerA)))
	requireProblem(t, resp, http.StatusGatewayTimeout, "unavailable")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// Test 29: oversized bodies are refused from the Content-Length alone, before
// the body is read, so memory stays flat.
func TestOversizedBodiesAre413(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.serve()
	sizes := []int{DefaultBodyLimit + 1, 1 << 20, 10 << 20}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("announced %d, body never sent", size), func(t *testing.T) {
			resp := announceBody(t, base, "/api/accounts", size)
			requireProblem(t, resp, http.StatusRequestEntityTooLarge, "payload_too_large")
			assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
		})
	}
	for _, size := range sizes[1:] {
		t.Run(fmt.Sprintf("sent %d", size), func(t *testing.T) {
			body := `{"account_name":"` + strings.Repeat("x", size) + `"}`
			req, err := http.NewRequest(http.MethodPost, base+"/api/accounts", strings.NewReader(body))
			require.NoError(t, err)
			asBrowserA()(req)
			deliberatelyInvalid()(req) // far over the limit, and an account name hundreds of thousands of characters long
			start := time.Now()
			resp, err := contractClient(t, nil).Do(req)
			// The server answers and closes without reading the body; if the client is
			// still writing, the kernel may reset the connection before it reads the 413.
			if err != nil {
				assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "%v", err)
			} else {
				defer resp.Body.Close()
				requireProblem(t, resp, http.StatusRequestEntityTooLarge, "payload_too_large")
			}
			assert.Less(t, time.Since(start), 2*time.Second)
		})
	}
	assert.Empty(t, e.accountsOf(userA))
	lines := e.logs.FilterField(fieldInt("status", 413)).All()
	assert.GreaterOrEqual(t, len(lines), len(sizes), "refused requests are logged too")
}

// A body of exactly BodyLimit bytes is read and judged on its content.
func TestBodyAtTheLimitIsAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prefix, suffix := `{"account_name":"`, `"}`
	body := prefix + strings.Repeat("x", DefaultBodyLimit-len(prefix)-len(suffix)) + suffix
	require.Len(t, body, DefaultBodyLimit)
	p := requireProblem(t, e.do(newRequest(http.MethodPost, "/api/accounts", body, asBrowserA())), http.StatusUnprocessableEntity, "validation_failed")
	assert.Equal(t, "account_name", p.Errors[0].Field)
}

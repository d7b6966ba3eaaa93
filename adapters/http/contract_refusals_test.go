package httpadapter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/ports"
)

// The refusals every operation shares, sent to every operation of the OpenAPI document:
// each answer is checked against the document by the send helpers, and each status must be
// the one the refusal calls for.

// exampleRequest is one request an operation of the document accepts.
type exampleRequest struct{ method, target, body string }

const exampleID = "0196b2f0-7c1e-7a3b-9f00-123456789abc"

// operationExamples has one valid request per operation of the document, keyed like
// contractDoc.operations; TestOperationExamplesCoverTheDocument keeps it complete.
var operationExamples = map[string]exampleRequest{
	"GET /healthz":                           {http.MethodGet, "/healthz", ""},
	"GET /livez":                             {http.MethodGet, "/livez", ""},
	"GET /readyz":                            {http.MethodGet, "/readyz", ""},
	"GET /openapi.json":                      {http.MethodGet, "/openapi.json", ""},
	"GET /docs":                              {http.MethodGet, "/docs", ""},
	"GET /docs/assets/{asset}":               {http.MethodGet, "/docs/assets/docs.js", ""},
	"GET /api/accounts":                      {http.MethodGet, "/api/accounts", ""},
	"POST /api/accounts":                     {http.MethodPost, "/api/accounts", `{"account_name":"Main"}`},
	"POST /api/accounts/get-or-create":       {http.MethodPost, "/api/accounts/get-or-create", ""},
	"POST /api/credentials/store":            {http.MethodPost, "/api/credentials/store", `{"account_id":"` + exampleID + `","credential_type":"alpaca","api_key":"AKEXAMPLE","secret_key":"SKEXAMPLE"}`},
	"GET /api/credentials":                   {http.MethodGet, "/api/credentials?account_id=" + exampleID, ""},
	"PUT /api/credentials/{id}":              {http.MethodPut, "/api/credentials/" + exampleID, `{"nickname":"renamed"}`},
	"DELETE /api/credentials/{id}":           {http.MethodDelete, "/api/credentials/" + exampleID, ""},
	"POST /api/credentials/{id}/validate":    {http.MethodPost, "/api/credentials/" + exampleID + "/validate", ""},
	"GET /api/credentials/{id}/account-data": {http.MethodGet, "/api/credentials/" + exampleID + "/account-data", ""},
	"GET /api/credentials/{id}/events":       {http.MethodGet, "/api/credentials/" + exampleID + "/events", ""},
}

// request builds the example as user A's bearer session sends it.
func (x exampleRequest) request(opts ...reqOption) *http.Request {
	base := []reqOption{withBearer(bearerA)}
	if x.body != "" {
		base = append(base, withJSON())
	}
	return newRequest(x.method, x.target, x.body, append(base, opts...)...)
}

// Every operation of the document has an example, and each example reaches its operation
// and is a request the document accepts.
func TestOperationExamplesCoverTheDocument(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	ops := c.operations()
	assert.ElementsMatch(t, ops, mapKeys(operationExamples))
	for _, op := range ops {
		x, ok := operationExamples[op]
		if !ok {
			continue
		}
		req := x.request()
		route, params := c.route(req.Method, req.URL.Path)
		require.Equal(t, op, route.Method+" "+route.Path)
		in := &openapi3filter.RequestValidationInput{Request: requestWithBody(req, []byte(x.body)), PathParams: params, Route: route, Options: contractOptions()}
		assert.NoError(t, openapi3filter.ValidateRequest(context.Background(), in), op)
	}
}

// What the server refuses before any handler runs, it refuses for every operation, with
// the answers the document lists: oversized headers (431), an unparsable Content-Length
// (400), a request not received within the read timeout (408), and for methods that carry
// a body, one over the limit (413).
func TestEveryOperationAnswersTheServersOwnRefusals(t *testing.T) {
	t.Parallel()
	const readTimeout = 300 * time.Millisecond
	e := newEnv(t, withConfig(func(c *Config) { c.ReadTimeout = readTimeout }))
	addr := strings.TrimPrefix(e.serve(), "http://")
	for op, x := range operationExamples {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			start := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\n", x.method, x.target)
			refusals := map[string]struct {
				raw    string
				status int
				code   string
			}{
				"headers too large":    {start + "X-Pad: " + strings.Repeat("x", 20<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge, "headers_too_large"},
				"unparsable length":    {start + "Content-Length: x\r\n\r\n", http.StatusBadRequest, "bad_request"},
				"not received in time": {start + "X-Slow: ", http.StatusRequestTimeout, "request_timeout"},
				"body over the limit":  {start + fmt.Sprintf("Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", DefaultBodyLimit+1), http.StatusRequestEntityTooLarge, "payload_too_large"},
			}
			if x.method == http.MethodGet {
				delete(refusals, "body over the limit") // a GET's body is never read
			}
			for name, r := range refusals {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					conn := dial(t, addr)
					_, err := io.WriteString(conn, r.raw)
					require.NoError(t, err)
					resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: x.method})
					require.NoError(t, err)
					defer resp.Body.Close()
					checkRawExchange(t, r.raw, resp)
					requireProblem(t, resp, r.status, r.code)
				})
			}
		})
	}
}

// Every /api operation is refused without a session (401), past the failed-authentication
// budget (429), and answers 500, 503 and 504 when its store panics, is unreachable or hangs.
func TestEveryAPIOperationAnswersTheSessionAndStoreRefusals(t *testing.T) {
	t.Parallel()
	for op, x := range operationExamples {
		if !strings.Contains(op, " /api/") {
			continue
		}
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withConfig(func(c *Config) { c.AuthFailureBurst = 1; c.AuthFailureRate = 0.01 }))
			requireProblem(t, e.do(x.request(withHeader("Authorization", ""), deliberatelyInvalid())), http.StatusUnauthorized, "unauthenticated")
			limited := e.do(x.request(withBearer("garbage.signature")))
			requireProblem(t, limited, http.StatusTooManyRequests, "rate_limited")
			assert.NotEmpty(t, limited.Header.Get("Retry-After"))

			requireProblem(t, newEnv(t, withBroken(panicking)).do(x.request()), http.StatusInternalServerError, "internal")
			unavailable := newEnv(t, withBroken(failing(ports.ErrUnavailable))).do(x.request())
			requireProblem(t, unavailable, http.StatusServiceUnavailable, "unavailable")
			assert.Equal(t, "1", unavailable.Header.Get("Retry-After"))
			slow := newEnv(t, withBroken(hanging), withRequestTimeout(20*time.Millisecond)).do(x.request())
			requireProblem(t, slow, http.StatusGatewayTimeout, "unavailable")
			assert.Equal(t, "1", slow.Header.Get("Retry-After"))
		})
	}
}

// Every operation that reads a body refuses one not sent as JSON (415) and one that is not
// a JSON object (400), before it does anything.
func TestEveryBodyReadingOperationRefusesBadBodies(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	for op, x := range operationExamples {
		route, _ := c.route(x.method, strings.Split(x.target, "?")[0])
		if route.Operation == nil || route.Operation.RequestBody == nil {
			continue
		}
		t.Run(op, func(t *testing.T) {
			e := newEnv(t)
			body := x
			body.body = `{"account_name":"Main"}`
			requireProblem(t, e.do(body.request(withHeader("Content-Type", "text/plain"), deliberatelyInvalid())),
				http.StatusUnsupportedMediaType, "unsupported_media_type")
			body.body = `{`
			requireProblem(t, e.do(body.request(deliberatelyInvalid())), http.StatusBadRequest, "malformed_json")
			assert.Empty(t, e.accountsOf(userA), "nothing was created")
		})
	}
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

package httpadapter

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/assert"
)

// errorRecorder is a testing.TB that keeps what checkExchange reports instead of failing.
type errorRecorder struct {
	testing.TB
	errors []string
}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// checkExchange fails what the document does not describe, and only that: the checks of
// every other test rest on it.
func TestContractCheckFailsWhatTheDocumentDoesNotDescribe(t *testing.T) {
	t.Parallel()
	const account = `{"id":"0196b2f0-7c1e-7a3b-9f00-123456789abc","user_id":"u1","account_name":"Main","is_active":true,` +
		`"created_at":"2026-01-31T14:00:00.123456Z","updated_at":"2026-01-31T14:00:00.123456Z"}`
	const unauthenticated = `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"A valid session is required.","code":"unauthenticated"}`
	jsonHeaders := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	problemHeaders := func(kv ...string) http.Header {
		return jsonHeaders(append([]string{"Content-Type", "application/problem+json"}, kv...)...)
	}
	valid := func(opts ...reqOption) *http.Request {
		return newRequest(http.MethodPost, "/api/accounts", `{"account_name":"Main"}`, append([]reqOption{withBearer(bearerA), withJSON()}, opts...)...)
	}
	cases := map[string]struct {
		req    *http.Request
		status int
		header http.Header
		body   string
		wrong  string // in the report; empty: the exchange is as documented
	}{
		"as documented":               {valid(), 201, jsonHeaders(), account, ""},
		"a status it does not list":   {valid(), 418, jsonHeaders(), account, "does not list status 418"},
		"a field missing":             {valid(), 201, jsonHeaders(), strings.Replace(account, `"is_active":true,`, "", 1), "is_active"},
		"a field it does not have":    {valid(), 201, jsonHeaders(), strings.Replace(account, `{`, `{"secret":"x",`, 1), "secret"},
		"a timestamp of another form": {valid(), 201, jsonHeaders(), strings.Replace(account, ".123456Z", "Z", 1), "created_at"},
		"no X-Request-Id":             {valid(), 201, http.Header{"Content-Type": {"application/json"}}, account, "X-Request-Id"},
		"another problem code":        {valid(), 401, problemHeaders("WWW-Authenticate", "Bearer"), strings.Replace(unauthenticated, `"unauthenticated"`, `"internal"`, 1), "code"},
		"a 401 without its challenge": {valid(), 401, problemHeaders(), unauthenticated, "WWW-Authenticate"},
		"a 429 without Retry-After":   {valid(), 429, problemHeaders(), `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"x","code":"rate_limited"}`, "Retry-After"},
		"a request it refuses":        {newRequest(http.MethodPost, "/api/accounts", `{"account_name":1}`, withBearer(bearerA), withJSON()), 422, problemHeaders(), `{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"account_name must be a string","code":"validation_failed","errors":[{"field":"account_name","message":"must be a string"}]}`, "the request does not match"},
		"a refused request, marked":   {newRequest(http.MethodPost, "/api/accounts", `{"account_name":1}`, withBearer(bearerA), withJSON(), deliberatelyInvalid()), 422, problemHeaders(), `{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"account_name must be a string","code":"validation_failed","errors":[{"field":"account_name","message":"must be a string"}]}`, ""},
		"no session":                  {newRequest(http.MethodGet, "/api/accounts", ""), 401, problemHeaders("WWW-Authenticate", "Bearer"), unauthenticated, "security requirements failed"},
		"a HEAD answer with a body":   {newRequest(http.MethodHead, "/healthz", ""), 200, jsonHeaders(), `{"status":"ok"}`, "a body where none may be"},
		"a 405 without Allow":         {newRequest(http.MethodDelete, "/healthz", ""), 405, problemHeaders(), `{"type":"about:blank","title":"Method Not Allowed","status":405,"detail":"x","code":"method_not_allowed"}`, "Allow"},
		"a 405 with Allow":            {newRequest(http.MethodDelete, "/healthz", ""), 405, problemHeaders("Allow", "GET, HEAD"), `{"type":"about:blank","title":"Method Not Allowed","status":405,"detail":"x","code":"method_not_allowed"}`, ""},
		"an unknown path answered":    {newRequest(http.MethodGet, "/nope", ""), 200, jsonHeaders(), `{"status":"ok"}`, "does not list status 200"},
		"a 304 without its ETag":      {newRequest(http.MethodGet, "/openapi.json", ""), 304, http.Header{"X-Request-Id": {"r1"}}, "", "ETag"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body, err := takeBody(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			resp := &http.Response{StatusCode: tc.status, Header: tc.header, Body: io.NopCloser(strings.NewReader(tc.body))}
			rec := &errorRecorder{TB: t}
			verifyExchange(rec, tc.req, body, resp, checkRequest, func(string, *routers.Route, int) {}) // made up: not counted
			if tc.wrong == "" {
				assert.Empty(t, rec.errors)
				return
			}
			if assert.Len(t, rec.errors, 1) {
				assert.Contains(t, rec.errors[0], tc.wrong)
			}
		})
	}
}

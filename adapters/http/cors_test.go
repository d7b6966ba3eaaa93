package httpadapter

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func preflight(origin, path string) *http.Request {
	return newRequest(http.MethodOptions, path, "", withOrigin(origin),
		withHeader("Access-Control-Request-Method", "POST"),
		withHeader("Access-Control-Request-Headers", "content-type"))
}

// Reliability test 9.
func TestCORS_PreflightFromAllowedOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(preflight(allowedOrigin, "/api/accounts"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	h := resp.Header
	assert.Equal(t, allowedOrigin, h.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "GET, HEAD, POST", h.Get("Access-Control-Allow-Methods"), "the methods of this route")
	assert.Equal(t, "Authorization, Content-Type, X-Request-Id", h.Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "600", h.Get("Access-Control-Max-Age"))
	assert.Contains(t, h.Get("Vary"), "Origin")
	assert.Empty(t, e.verifier.proofs(), "preflights carry no credentials and need none")
}

// A preflight advertises the methods of the route it asks about, not a fixed list, so a
// browser learns nothing the route would not do; for a path that does not exist it is a
// 404 with no CORS headers at all.
func TestCORS_PreflightAdvertisesTheRoutesOwnMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	routes := map[string]string{
		"/api/accounts":                                  "GET, HEAD, POST",
		"/api/accounts/":                                 "GET, HEAD, POST",
		"/api/accounts/get-or-create":                    "POST",
		"/api/credentials":                               "GET, HEAD",
		"/api/credentials/store":                         "POST, PUT, DELETE", // PUT and DELETE reach /api/credentials/:id
		"/api/credentials/" + zeroUUID:                   "PUT, DELETE",
		"/api/credentials/not-a-uuid":                    "PUT, DELETE", // the handler answers 404 for a bad id
		"/api/credentials/" + zeroUUID + "/validate":     "POST",
		"/api/credentials/" + zeroUUID + "/account-data": "GET, HEAD",
		"/healthz": "GET, HEAD",
	}
	for path, methods := range routes {
		t.Run(path, func(t *testing.T) {
			resp := e.do(preflight(allowedOrigin, path))
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			assert.Equal(t, methods, resp.Header.Get("Access-Control-Allow-Methods"))
			assert.Equal(t, allowedOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
		})
	}
	for _, path := range []string{"/api/nope", "/api/accounts/nope", "/api/credentials/" + zeroUUID + "/nope", "/nope", "/API/accounts"} {
		t.Run(path, func(t *testing.T) {
			resp := e.do(preflight(allowedOrigin, path))
			requireProblem(t, resp, http.StatusNotFound, "not_found")
			for name := range resp.Header {
				assert.NotContains(t, name, "Access-Control-", "no CORS header for a path that does not exist")
			}
		})
	}
	assert.Empty(t, e.verifier.proofs(), "preflights never authenticate")
}

func TestCORS_PreflightFromEvilOriginGetsNoAllowOrigin(t *testing.T) {
	t.Parallel()
	for _, origin := range []string{evilOrigin, "null", allowedOrigin + ".evil.example"} {
		t.Run(origin, func(t *testing.T) {
			e := newEnv(t)
			resp := e.do(preflight(origin, "/api/accounts"))
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
				assert.Empty(t, resp.Header.Get(h), h)
			}
		})
	}
}

func TestCORS_ActualResponsesToAllowedOriginAreShareable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA), withOrigin(allowedOrigin)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, allowedOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "Retry-After, X-Request-Id", resp.Header.Get("Access-Control-Expose-Headers"))

	// Errors too, or the SPA could not read its own 401 and 413.
	resp = e.do(newRequest(http.MethodGet, "/api/accounts", "", withOrigin(allowedOrigin), deliberatelyInvalid()))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, allowedOrigin, resp.Header.Get("Access-Control-Allow-Origin"))

	// fasthttp refuses an oversized body before any middleware runs; the error handler
	// adds the CORS headers itself. app.Test cannot see that response, so use a socket.
	resp = announceBody(t, e.serve(), "/api/accounts", 100<<10)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, allowedOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
}

func TestCORS_NeverWildcard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, req := range []*http.Request{
		preflight(allowedOrigin, "/api/accounts"),
		preflight(evilOrigin, "/api/accounts"),
		newRequest(http.MethodGet, "/healthz", "", withOrigin(evilOrigin)),
		newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA), withOrigin(allowedOrigin)),
	} {
		resp := e.do(req)
		assert.NotEqual(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCORS_NoConfiguredOriginsMeansNoCrossOriginAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *Config) { c.AllowedOrigins = nil }))
	resp := e.do(preflight(allowedOrigin, "/api/accounts"))
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA())),
		http.StatusForbidden, "forbidden_origin")
}

func TestConfig_ValidateRefusesWildcardsAndNonOrigins(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"*", "null", "https://*.example.com", "https://app.example/path", "ftp://app.example", "app.example", "https://user@app.example", ""} {
		t.Run(o, func(t *testing.T) {
			cfg := Config{AllowedOrigins: []string{o}}
			require.Error(t, cfg.Validate())
			assert.Panics(t, func() { NewServer(cfg, newEnvApp(), newFakeVerifier(), nil, nil) })
		})
	}
	for _, n := range []string{"a b", "a;b", "a=b", "a,b", "a\"b"} {
		require.Error(t, Config{SessionCookieName: n}.Validate(), n)
	}
	require.Error(t, Config{BodyLimit: -1}.Validate())
	require.NoError(t, Config{AllowedOrigins: []string{"https://App.Example:8443/", " http://localhost:5173 "}, SessionCookieName: secureCookie}.Validate())
}

package httpadapter

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/ports"
)

// Test 1 (docs/reliability.md): missing or garbage credentials → 401, one body for every reason.
func TestAuth_MissingOrGarbageSessionIsUniform401(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		opts       []reqOption
		noProof    bool // the verifier (and so the database) must not even be asked
		method     string
		path, body string
	}{
		"nothing":                 {noProof: true},
		"empty cookie":            {opts: []reqOption{withCookie(secureCookie, "")}, noProof: true},
		"unknown cookie name":     {opts: []reqOption{withCookie("session", cookieA)}, noProof: true},
		"basic auth":              {opts: []reqOption{withHeader("Authorization", "Basic dXNlcjpwYXNz")}, noProof: true},
		"bearer without token":    {opts: []reqOption{withHeader("Authorization", "Bearer   ")}, noProof: true},
		"bearer glued to token":   {opts: []reqOption{withHeader("Authorization", "Bearer"+bearerA)}, noProof: true},
		"garbage cookie":          {opts: []reqOption{withCookie(secureCookie, "garbage")}},
		"flipped signature":       {opts: []reqOption{withCookie(secureCookie, cookieA[:len(cookieA)-4]+"X%3D")}},
		"double-encoded cookie":   {opts: []reqOption{withCookie(secureCookie, "tUPsAoZWuxQHuqTLyyK7jlvEkSIfdThO.w7hbRT%252FiX")}},
		"garbage bearer":          {opts: []reqOption{withBearer("garbage")}},
		"garbage bearer + cookie": {opts: []reqOption{withBearer("garbage"), withCookie(secureCookie, cookieA)}},
		"write without session":   {method: http.MethodPost, path: "/api/accounts", body: `{"account_name":"x"}`, opts: []reqOption{withJSON(), withOrigin(allowedOrigin)}, noProof: true},
		"write from evil origin":  {method: http.MethodPost, path: "/api/accounts", body: `{"account_name":"x"}`, opts: []reqOption{withJSON(), withOrigin(evilOrigin)}, noProof: true},
		"unknown API route":       {path: "/api/does-not-exist", noProof: true},
		"get-or-create":           {method: http.MethodPost, path: "/api/accounts/get-or-create", opts: []reqOption{withCookie(secureCookie, "garbage"), withOrigin(allowedOrigin)}},
	}
	var first []byte
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			method, path := tc.method, tc.path
			if method == "" {
				method = http.MethodGet
			}
			if path == "" {
				path = "/api/accounts"
			}
			resp := e.do(newRequest(method, path, tc.body, append(tc.opts, deliberatelyInvalid())...))
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			body := []byte(bodyWithoutInstance(t, resp))
			if first == nil {
				first = body
			}
			assert.Equal(t, string(first), string(body), "every 401 has the same body, but for its own request id")
			if tc.noProof {
				assert.Empty(t, e.verifier.proofs(), "no session lookup without a proof")
			}
			assert.Empty(t, e.accountsOf(userA))
		})
	}
	assert.JSONEq(t, `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"A valid session is required.","code":"unauthenticated"}`, string(first))
}

func TestAuth_CookieIsPassedStillURLEncoded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA))).StatusCode)
	assert.Equal(t, []ports.SessionProof{{Cookie: cookieA}}, e.verifier.proofs())
}

func TestAuth_BearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		t.Run(scheme, func(t *testing.T) {
			e := newEnv(t)
			resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withHeader("Authorization", scheme+" "+bearerA)))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []ports.SessionProof{{Bearer: bearerA}}, e.verifier.proofs())
		})
	}
}

func TestAuth_BearerIsUsedInsteadOfCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusCreated, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"b"}`,
		withBearer(bearerB), withCookie(secureCookie, cookieA), withJSON())).StatusCode)
	assert.Len(t, e.accountsOf(userB), 1)
	assert.Empty(t, e.accountsOf(userA))
	assert.Equal(t, []ports.SessionProof{{Bearer: bearerB}}, e.verifier.proofs(), "only one proof is presented")
}

// Test 5 (docs/reliability.md): exactly the one configured cookie name is read, in either
// mode, as Better Auth's getSession does. A valid session under the other name (planted by
// a sibling subdomain, say) is ignored, wherever it stands in the header: it neither
// replaces nor rescues the configured one.
func TestAuth_OnlyTheConfiguredCookieNameIsRead(t *testing.T) {
	t.Parallel()
	modes := map[string]struct{ read, other string }{
		"secure mode": {secureCookie, devCookie},
		"plain mode":  {devCookie, secureCookie},
	}
	for name, m := range modes {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { c.SessionCookieName = m.read }))
			for _, header := range []string{
				m.read + "=" + cookieA + "; " + m.other + "=" + cookieB,
				m.other + "=" + cookieB + "; " + m.read + "=" + cookieA,
			} {
				resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"mine"}`,
					withHeader("Cookie", header), withOrigin(allowedOrigin), withJSON()))
				require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, resp.StatusCode, header)
			}
			assert.Len(t, e.accountsOf(userA), 1, "the configured cookie is the session")
			assert.Empty(t, e.accountsOf(userB), "the other name is not")

			// The other name alone is no session at all, and costs no verification.
			before := len(e.verifier.proofs())
			requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(m.other, cookieB))),
				http.StatusUnauthorized, "unauthenticated")
			// A bad configured cookie is not rescued by a good one under the other name.
			requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "",
				withHeader("Cookie", m.other+"="+cookieB+"; "+m.read+"=garbage"))), http.StatusUnauthorized, "unauthenticated")
			assert.Equal(t, []ports.SessionProof{{Cookie: "garbage"}}, e.verifier.proofs()[before:])
			for _, p := range e.verifier.proofs() {
				assert.NotEqual(t, cookieB, p.Cookie, "the other name never reaches the verifier")
			}
		})
	}
}

// Without a cookie name only bearer tokens count.
func TestAuth_NoCookieNameMeansBearerOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *Config) { c.SessionCookieName = "" }))
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA))), http.StatusUnauthorized, "unauthenticated")
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerA))).StatusCode)
	assert.Equal(t, []ports.SessionProof{{Bearer: bearerA}}, e.verifier.proofs())
}

func TestAuth_RepeatedCookieNameFirstOccurrenceWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ok := e.do(newRequest(http.MethodGet, "/api/accounts", "",
		withHeader("Cookie", secureCookie+"="+cookieA+"; other=1; "+secureCookie+"=garbage")))
	require.Equal(t, http.StatusOK, ok.StatusCode)

	refused := e.do(newRequest(http.MethodGet, "/api/accounts", "",
		withHeader("Cookie", secureCookie+"=garbage; "+secureCookie+"="+cookieA)))
	requireProblem(t, refused, http.StatusUnauthorized, "unauthenticated")
	assert.Equal(t, []ports.SessionProof{{Cookie: cookieA}, {Cookie: "garbage"}}, e.verifier.proofs())
}

// The signature holds but the session has ended: the request's transaction refuses it with
// the same 401, and nothing else happens.
func TestAuth_SignedButEndedSessionIs401(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, req := range []*http.Request{
		newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieGone)),
		newRequest(http.MethodPost, "/api/accounts/get-or-create", "", withCookie(secureCookie, cookieGone), withOrigin(allowedOrigin)),
	} {
		resp := e.do(req)
		requireProblem(t, resp, http.StatusUnauthorized, "unauthenticated")
		assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
	}
	assert.Equal(t, []ports.SessionProof{{Cookie: cookieGone}, {Cookie: cookieGone}}, e.verifier.proofs())
}

// Failures while the request's transaction resolves the session keep their own status.
func TestAuth_SessionResolutionFailuresMapToTheirStatus(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		err    error
		status int
		code   string
	}{
		"database down":     {fmt.Errorf("resolve session: %w", ports.ErrUnavailable), http.StatusServiceUnavailable, "unavailable"},
		"database too slow": {fmt.Errorf("resolve session: %w", ports.ErrTimeout), http.StatusGatewayTimeout, "unavailable"},
		"deadline":          {fmt.Errorf("resolve session: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, "unavailable"},
		"unexpected":        {errDatabaseExploded, http.StatusInternalServerError, "internal"},
		"no live session":   {fmt.Errorf("expired at noon: %w", ports.ErrUnauthenticated), http.StatusUnauthorized, "unauthenticated"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, withBroken(failing(tc.err)))
			resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA()))
			p := requireProblem(t, resp, tc.status, tc.code)
			assert.NotContains(t, p.Detail, "noon")
			assert.NotContains(t, p.Detail, "SQLSTATE")
			if tc.status >= 503 {
				assert.Equal(t, "1", resp.Header.Get("Retry-After"))
			}
		})
	}
}

// A verifier that fails otherwise than with a refusal is a bug: 500, never a 401 that would
// sign a user out, and nothing runs.
func TestAuth_VerifierBugIs500(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.verifier.setFail(errDatabaseExploded)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA()))
	p := requireProblem(t, resp, http.StatusInternalServerError, "internal")
	assert.NotContains(t, p.Detail, "SQLSTATE")
	assert.Empty(t, e.accountsOf(userA), "nothing ran after the failed session check")
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		header, token string
		ok            bool
	}{
		"plain":       {"Bearer abc.def=", "abc.def=", true},
		"lower":       {"bearer abc", "abc", true},
		"tab":         {"Bearer\tabc", "abc", true},
		"padded":      {"Bearer   abc  ", "abc", true},
		"empty":       {"", "", false},
		"scheme only": {"Bearer", "", false},
		"blank token": {"Bearer    ", "", false},
		"glued":       {"Bearerabc", "", false},
		"basic":       {"Basic abc", "", false},
		"short":       {"Bear", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tok, ok := bearerToken(tc.header)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.token, tok)
		})
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requireProblem(t, e.do(newRequest(http.MethodGet, "/nope", "")), http.StatusNotFound, "not_found")
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/nope", "", withBearer(bearerA))), http.StatusNotFound, "not_found")
	// Routes are case-sensitive: the client uses exactly the contract's paths.
	requireProblem(t, e.do(newRequest(http.MethodGet, "/API/accounts", "", withBearer(bearerA))), http.StatusNotFound, "not_found")
}

func TestMethodNotAllowedIs405WithAllow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodDelete, "/api/accounts", "", withBearer(bearerA)))
	requireProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed")
	assert.Equal(t, "GET, HEAD, POST", resp.Header.Get("Allow"))

	resp = e.do(newRequest(http.MethodGet, "/api/accounts/get-or-create", "", withBearer(bearerA)))
	requireProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed")
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
}

// A request that would be refused for its input, origin or route is refused for its
// session first when that session has ended: the same 401 as if the session had been
// checked before anything else. With a live session the request gets its own answer.
func TestAuth_EndedSessionIs401BeforeAnyOtherRefusal(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		method, path, body string
		opts               []reqOption
		live               int
	}{
		"invalid account name":   {http.MethodPost, "/api/accounts", `{"account_name":""}`, []reqOption{withOrigin(allowedOrigin), withJSON()}, 422},
		"malformed JSON":         {http.MethodPost, "/api/accounts", `{"account_name":`, []reqOption{withOrigin(allowedOrigin), withJSON()}, 400},
		"not JSON":               {http.MethodPost, "/api/accounts", `{}`, []reqOption{withOrigin(allowedOrigin), withHeader("Content-Type", "text/plain")}, 415},
		"foreign origin":         {http.MethodPost, "/api/accounts", `{"account_name":"x"}`, []reqOption{withOrigin(evilOrigin), withJSON()}, 403},
		"malformed account id":   {http.MethodGet, "/api/credentials?account_id=nope", "", nil, 422},
		"malformed credential":   {http.MethodDelete, "/api/credentials/nope", "", []reqOption{withOrigin(allowedOrigin)}, 404},
		"empty update":           {http.MethodPut, "/api/credentials/" + zeroUUID, `{}`, []reqOption{withOrigin(allowedOrigin), withJSON()}, 400},
		"unknown API route":      {http.MethodGet, "/api/nope", "", nil, 404},
		"method the route lacks": {http.MethodDelete, "/api/accounts", "", []reqOption{withOrigin(allowedOrigin)}, 405},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			// Each case is a request refused for its input once the session is live.
			opts := append([]reqOption{deliberatelyInvalid()}, tc.opts...)
			ended := e.do(newRequest(tc.method, tc.path, tc.body, append([]reqOption{withCookie(secureCookie, cookieGone)}, opts...)...))
			requireProblem(t, ended, http.StatusUnauthorized, "unauthenticated")
			live := e.do(newRequest(tc.method, tc.path, tc.body, append([]reqOption{withCookie(secureCookie, cookieA)}, opts...)...))
			require.Equal(t, tc.live, live.StatusCode)
		})
	}
}

const zeroUUID = "00000000-0000-0000-0000-000000000000"

package httpadapter

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Test 8 of docs/reliability.md: a valid cookie from a foreign or unknown origin cannot write.
func TestCSRF_CookieWriteFromForeignOriginIs403(t *testing.T) {
	t.Parallel()
	cases := map[string][]reqOption{
		"evil origin":                 {withOrigin(evilOrigin)},
		"null origin":                 {withOrigin("null")},
		"no origin":                   {},
		"no origin, cross-site fetch": {withHeader("Sec-Fetch-Site", "cross-site")},
		"allowed origin as prefix":    {withOrigin(allowedOrigin + ".evil.example")},
		"other port":                  {withOrigin("http://localhost:5174")},
		"other scheme":                {withOrigin("https://localhost:5173")},
		"origin with path":            {withOrigin(allowedOrigin + "/")},
	}
	for name, opts := range cases {
		for _, path := range []string{"/api/accounts", "/api/accounts/get-or-create"} {
			t.Run(name+" "+path, func(t *testing.T) {
				e := newEnv(t)
				opts := append([]reqOption{withCookie(secureCookie, cookieA), withJSON()}, opts...)
				resp := e.do(newRequest(http.MethodPost, path, `{"account_name":"x"}`, opts...))
				requireProblem(t, resp, http.StatusForbidden, "forbidden_origin")
				assert.Empty(t, e.accountsOf(userA), "no rows change on refusal")
			})
		}
	}
}

func TestCSRF_CookieWriteFromAllowedOriginSucceeds(t *testing.T) {
	t.Parallel()
	for _, origin := range []string{allowedOrigin, "https://app.brokerly.example", "HTTPS://APP.BROKERLY.EXAMPLE"} {
		t.Run(origin, func(t *testing.T) {
			e := newEnv(t)
			resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`,
				withCookie(secureCookie, cookieA), withJSON(), withOrigin(origin)))
			require.Equal(t, http.StatusCreated, resp.StatusCode)
		})
	}
}

func TestCSRF_BearerWriteNeedsNoOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"cli"}`, withBearer(bearerA), withJSON()))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp = e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "", withBearer(bearerB), withOrigin(evilOrigin)))
	require.Equal(t, http.StatusOK, resp.StatusCode, "a page cannot attach someone's bearer token, so the origin does not matter")
}

func TestCSRF_ReadsAreNotRefusedButNotShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA), withOrigin(evilOrigin)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "the evil page cannot read the answer")
}

func TestCSRF_AuthenticationIsCheckedFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`,
		withCookie(secureCookie, "garbage"), withOrigin(evilOrigin), withJSON()))
	requireProblem(t, resp, http.StatusUnauthorized, "unauthenticated")
}

// Test 8 of docs/reliability.md: a JSON body sent as a "simple" content type is refused, and the
// origin check comes before the content-type check.
func TestCSRF_NonJSONContentTypeIs415AfterOriginCheck(t *testing.T) {
	t.Parallel()
	bodies := map[string]struct{ contentType, body string }{
		"text/plain":            {"text/plain", `{"account_name":"x"}`},
		"text/plain utf-8":      {"text/plain;charset=UTF-8", `{"account_name":"x"}`},
		"form":                  {"application/x-www-form-urlencoded", "account_name=x&a[-1]=x&a[99999999]=x"},
		"multipart":             {"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"account_name\"\r\n\r\nx\r\n--x--\r\n"},
		"no content type":       {"", `{"account_name":"x"}`},
		"json lookalike":        {"application/jsonp", `{"account_name":"x"}`},
		"problem json":          {"application/problem+json", `{"account_name":"x"}`},
		"latin-1 charset":       {"application/json; charset=iso-8859-1", `{"account_name":"x"}`},
		"unparsable media type": {"application/json; =", `{"account_name":"x"}`},
	}
	for name, tc := range bodies {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			opts := []reqOption{withCookie(secureCookie, cookieA), withOrigin(allowedOrigin), deliberatelyInvalid()}
			if tc.contentType != "" {
				opts = append(opts, withHeader("Content-Type", tc.contentType))
			}
			requireProblem(t, e.do(newRequest(http.MethodPost, "/api/accounts", tc.body, opts...)),
				http.StatusUnsupportedMediaType, "unsupported_media_type")

			opts[1] = withOrigin(evilOrigin)
			requireProblem(t, e.do(newRequest(http.MethodPost, "/api/accounts", tc.body, opts...)),
				http.StatusForbidden, "forbidden_origin")
			assert.Empty(t, e.accountsOf(userA))
		})
	}
}

// A method the route does not have is 405 with Allow, before any origin check: the CSRF
// check belongs to the routes, and no route takes the request. A path no route has is 404
// the same way. Either way nothing runs.
func TestCSRF_MethodTheRouteLacksIs405NotForbidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	cred := e.storeCredential(t, asBrowserA(), accountID, "")
	cases := map[string]struct {
		method, path string
		origin       []reqOption
		status       int
		allow        string
	}{
		"DELETE on a GET and POST route, foreign origin": {http.MethodDelete, "/api/accounts", []reqOption{withOrigin(evilOrigin)}, 405, "GET, HEAD, POST"},
		"PUT on a POST route, no origin":                 {http.MethodPut, "/api/accounts/get-or-create", nil, 405, "POST"},
		"DELETE on a GET route with an id":               {http.MethodDelete, "/api/credentials/" + cred.ID + "/account-data", []reqOption{withOrigin(evilOrigin)}, 405, "GET, HEAD"},
		"PATCH on a PUT and DELETE route":                {http.MethodPatch, "/api/credentials/" + cred.ID, []reqOption{withOrigin("null")}, 405, "PUT, DELETE"},
		"POST on a path no route has":                    {http.MethodPost, "/api/credentials/" + cred.ID + "/nope", []reqOption{withOrigin(evilOrigin)}, 404, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := append([]reqOption{withCookie(secureCookie, cookieA), withJSON()}, tc.origin...)
			resp := e.do(newRequest(tc.method, tc.path, `{"account_name":"x","nickname":"y"}`, opts...))
			if tc.status == 405 {
				requireProblem(t, resp, tc.status, "method_not_allowed")
			} else {
				requireProblem(t, resp, tc.status, "not_found")
			}
			assert.Equal(t, tc.allow, resp.Header.Get("Allow"))
		})
	}
	// The routes' own methods are still checked.
	requireProblem(t, e.do(newRequest(http.MethodDelete, "/api/credentials/"+cred.ID, "", withCookie(secureCookie, cookieA), withOrigin(evilOrigin))),
		http.StatusForbidden, "forbidden_origin")
	require.Len(t, e.accountsOf(userA), 1)
	resp := e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID, "", withBearer(bearerA)))
	assert.Equal(t, 1, decodeAs[CredentialList](t, resp).Count, "the credential is still there")
}

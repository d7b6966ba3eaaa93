package httpadapter

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
)

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`)

func TestListAccounts_EmptyListIsAnArray(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.JSONEq(t, `{"status":"success","accounts":[],"count":0}`, string(readBody(t, resp)))
}

func TestListAccounts_OnlyTheCallersAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusCreated, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"A's"}`, asBrowserA())).StatusCode)
	require.Equal(t, http.StatusCreated, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"B's"}`, asBrowserB())).StatusCode)

	list := decodeAs[AccountList](t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerB))))
	assert.Equal(t, "success", list.Status)
	require.Equal(t, 1, list.Count)
	require.Len(t, list.Accounts, 1)
	assert.Equal(t, "B's", list.Accounts[0].AccountName)
	assert.Equal(t, userB.String(), list.Accounts[0].UserID)
}

func TestCreateAccount_Returns201UserAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"  My Alpaca  "}`, asBrowserA()))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	got := decodeAs[map[string]any](t, resp)
	assert.ElementsMatch(t, []string{"id", "user_id", "account_name", "is_active", "created_at", "updated_at"}, keys(got))
	assert.Equal(t, "My Alpaca", got["account_name"], "trimmed")
	assert.Equal(t, userA.String(), got["user_id"])
	assert.Equal(t, true, got["is_active"])
	_, err := domain.ParseID(got["id"].(string))
	assert.NoError(t, err, "id is a UUID")
	assert.Regexp(t, timestampRE, got["created_at"])
	assert.Regexp(t, timestampRE, got["updated_at"])

	stored := e.accountsOf(userA)
	require.Len(t, stored, 1)
	assert.Equal(t, got["id"], stored[0].ID().String())
}

func TestCreateAccount_SecondIs409AndOneRowExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusCreated, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"first"}`, asBrowserA())).StatusCode)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"second"}`, asBrowserA()))
	requireProblem(t, resp, http.StatusConflict, "account_exists")

	stored := e.accountsOf(userA)
	require.Len(t, stored, 1)
	assert.Equal(t, "first", stored[0].Name().String())
}

func TestCreateAccount_InvalidFieldsAre422(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ body, message string }{
		"empty":              {`{"account_name":""}`, "must not be empty"},
		"only spaces":        {`{"account_name":"   "}`, "must not be empty"},
		"missing":            {`{}`, "must not be empty"},
		"null":               {`{"account_name":null}`, "must not be empty"},
		"256 characters":     {`{"account_name":"` + strings.Repeat("x", 256) + `"}`, "must be at most 255 characters"},
		"256 multibyte":      {`{"account_name":"` + strings.Repeat("é", 256) + `"}`, "must be at most 255 characters"},
		"bell":               {`{"account_name":"a\u0007b"}`, "must not contain control characters"},
		"newline":            {`{"account_name":"a\nb"}`, "must not contain control characters"},
		"NUL":                {`{"account_name":"a\u0000b"}`, "must not contain control characters"},
		"number":             {`{"account_name":123}`, "must be a string"},
		"boolean":            {`{"account_name":true}`, "must be a string"},
		"object":             {`{"account_name":{"x":1}}`, "must be a string"},
		"array":              {`{"account_name":["x"]}`, "must be a string"},
		"wrong type ignored": {`{"account_name":"","user_id":5}`, "must not be empty"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			resp := e.do(newRequest(http.MethodPost, "/api/accounts", tc.body, asBrowserA(), deliberatelyInvalid()))
			p := requireProblem(t, resp, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []FieldError{{Field: "account_name", Message: tc.message}}, p.Errors)
			assert.Empty(t, e.accountsOf(userA))
		})
	}
}

func TestCreateAccount_255CharactersIsTheLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name := strings.Repeat("é", account.MaxNameLength)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"`+name+`"}`, asBrowserA()))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, name, decodeAs[UserAccount](t, resp).AccountName)
}

func TestCreateAccount_MalformedJSONIs400(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"truncated":     `{"account_name":`,
		"trailing data": `{"account_name":"a"} {"account_name":"b"}`,
		"trailing junk": `{"account_name":"a"}x`,
		"array":         `[{"account_name":"a"}]`,
		"string":        `"a"`,
		"null":          `null`,
		"single quotes": `{'account_name':'a'}`,
		"invalid UTF-8": "{\"account_name\":\"\xff\xfe\"}",
		"deep nesting":  strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"only spaces":   `   `,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			resp := e.do(newRequest(http.MethodPost, "/api/accounts", body, asBrowserA(), deliberatelyInvalid()))
			requireProblem(t, resp, http.StatusBadRequest, "malformed_json")
			assert.Empty(t, e.accountsOf(userA))
		})
	}
}

func TestCreateAccount_EmptyBodyIs400(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", "", asBrowserA(), deliberatelyInvalid()))
	requireProblem(t, resp, http.StatusBadRequest, "malformed_json")
}

func TestCreateAccount_JSONWithCharsetParameterAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`,
		asBrowserA(), withHeader("Content-Type", "Application/JSON; charset=UTF-8")))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}

// Test 7 of docs/reliability.md: identity spoofing and mass assignment.
func TestCreateAccount_IgnoresClientSuppliedIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const spoofedID = "00000000-0000-7000-8000-000000000001"
	body := `{"account_name":"mine","user_id":"` + userA.String() + `","id":"` + spoofedID +
		`","key_id":7,"created_at":"1999-01-01T00:00:00.000000Z","updated_at":"1999-01-01T00:00:00.000000Z","is_active":false}`
	resp := e.do(newRequest(http.MethodPost, "/api/accounts?userId="+userA.String()+"&user_id="+userA.String(), body,
		asBrowserB(), withHeader("X-User-Id", userA.String())))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	got := decodeAs[UserAccount](t, resp)
	assert.Equal(t, userB.String(), got.UserID)
	assert.NotEqual(t, spoofedID, got.ID)
	assert.NotContains(t, got.CreatedAt, "1999")
	assert.True(t, got.IsActive)
	assert.Empty(t, e.accountsOf(userA), "nothing was created for the spoofed user")
	require.Len(t, e.accountsOf(userB), 1)
	assert.Equal(t, got.ID, e.accountsOf(userB)[0].ID().String())
}

func TestListAccounts_IgnoresUserIDInQueryAndHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusCreated, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"A's"}`, asBrowserA())).StatusCode)
	list := decodeAs[AccountList](t, e.do(newRequest(http.MethodGet, "/api/accounts?userId="+userA.String()+"&user_id="+userA.String(), "",
		withCookie(secureCookie, cookieB), withHeader("X-User-Id", userA.String()))))
	assert.Equal(t, 0, list.Count)
	assert.Empty(t, list.Accounts)
}

func TestGetOrCreate_CreatesDefaultOnceThenReturnsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "", withCookie(secureCookie, cookieA), withOrigin(allowedOrigin)))
	require.Equal(t, http.StatusOK, first.StatusCode)
	r1 := decodeAs[GetOrCreateResult](t, first)
	assert.True(t, r1.Created)
	assert.Equal(t, account.DefaultName, r1.Account.AccountName)
	assert.Equal(t, userA.String(), r1.Account.UserID)
	assert.True(t, r1.Account.IsActive)

	for _, body := range []string{"", "{}", `{"user_id":"` + userB.String() + `","account_name":"ignored"}`} {
		resp := e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", body, asBrowserA()))
		require.Equal(t, http.StatusOK, resp.StatusCode, "body %q", body)
		r := decodeAs[GetOrCreateResult](t, resp)
		assert.False(t, r.Created)
		assert.Equal(t, r1.Account, r.Account)
	}
	assert.Len(t, e.accountsOf(userA), 1)
	assert.Empty(t, e.accountsOf(userB))
}

func TestGetOrCreate_ReturnsAnAccountCreatedByPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := decodeAs[UserAccount](t, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"named"}`, asBrowserA())))
	r := decodeAs[GetOrCreateResult](t, e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "{}", asBrowserA())))
	assert.False(t, r.Created)
	assert.Equal(t, created, r.Account)
}

func TestGetOrCreate_PresentBodyMustBeAJSONObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "{}",
		asBrowserA(), withHeader("Content-Type", "text/plain"), deliberatelyInvalid())), http.StatusUnsupportedMediaType, "unsupported_media_type")
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "[]", asBrowserA(), deliberatelyInvalid())),
		http.StatusBadRequest, "malformed_json")
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "{", asBrowserA(), deliberatelyInvalid())),
		http.StatusBadRequest, "malformed_json")
	assert.Empty(t, e.accountsOf(userA))
}

func TestUserAccount_TimestampsHaveSixFractionalDigitsInUTC(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	cases := map[string]struct {
		at   time.Time
		want string
	}{
		"nanoseconds truncated": {time.Date(2026, 1, 31, 15, 0, 0, 123456789, berlin), "2026-01-31T14:00:00.123456Z"},
		"whole second padded":   {time.Date(2026, 1, 31, 14, 0, 0, 0, time.UTC), "2026-01-31T14:00:00.000000Z"},
		"trailing zeros kept":   {time.Date(2026, 1, 31, 14, 0, 0, 120000000, time.UTC), "2026-01-31T14:00:00.120000Z"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, withClock(fixedClock{tc.at}))
			got := decodeAs[UserAccount](t, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA())))
			assert.Equal(t, tc.want, got.CreatedAt)
			assert.Equal(t, tc.want, got.UpdatedAt)
		})
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

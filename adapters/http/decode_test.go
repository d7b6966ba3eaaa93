package httpadapter

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
)

// decodeTarget has one field of each JSON kind, for the type-error messages.
type decodeTarget struct {
	Name   string          `json:"name"`
	Active *bool           `json:"active"`
	Count  int8            `json:"count"`
	Tags   []string        `json:"tags"`
	Nested struct{ X int } `json:"nested"`
	Meta   map[string]int  `json:"meta"`
}

func TestDecodeBody(t *testing.T) {
	t.Parallel()
	const ct = "application/json"
	cases := map[string]struct {
		contentType, body string
		allowEmpty        bool
		kind              error  // nil: success
		field, message    string // for a validation error
	}{
		"object":               {ct, `{"name":"a"}`, false, nil, "", ""},
		"whitespace around":    {ct, " \r\n\t{\"name\":\"a\"} \n", false, nil, "", ""},
		"charset utf-8":        {"application/json; charset=utf-8", `{}`, false, nil, "", ""},
		"charset utf8 quoted":  {`application/json; charset="UTF8"`, `{}`, false, nil, "", ""},
		"other parameter":      {"application/json; foo=bar", `{}`, false, nil, "", ""},
		"upper case type":      {"APPLICATION/JSON", `{}`, false, nil, "", ""},
		"unknown fields":       {ct, `{"user_id":"x","id":1,"created_at":null,"name":"a"}`, false, nil, "", ""},
		"empty allowed":        {"", ``, true, nil, "", ""},
		"empty, any type":      {"text/plain", ``, true, nil, "", ""},
		"empty refused":        {ct, ``, false, errMalformedJSON, "", ""},
		"no content type":      {"", `{}`, true, errUnsupportedMediaType, "", ""},
		"text/plain":           {"text/plain", `{}`, true, errUnsupportedMediaType, "", ""},
		"form":                 {"application/x-www-form-urlencoded", `a[-1]=x`, false, errUnsupportedMediaType, "", ""},
		"json suffix":          {"application/vnd.api+json", `{}`, false, errUnsupportedMediaType, "", ""},
		"latin-1":              {"application/json; charset=latin1", `{}`, false, errUnsupportedMediaType, "", ""},
		"broken parameters":    {"application/json; charset", `{}`, false, errUnsupportedMediaType, "", ""},
		"truncated":            {ct, `{"name":`, false, errMalformedJSON, "", ""},
		"two objects":          {ct, `{}{}`, false, errMalformedJSON, "", ""},
		"trailing garbage":     {ct, `{} x`, false, errMalformedJSON, "", ""},
		"array":                {ct, `[]`, false, errMalformedJSON, "", ""},
		"null":                 {ct, `null`, false, errMalformedJSON, "", ""},
		"number":               {ct, `1`, false, errMalformedJSON, "", ""},
		"whitespace only":      {ct, "  \n", false, errMalformedJSON, "", ""},
		"invalid UTF-8":        {ct, "{\"name\":\"\xc3\x28\"}", false, errMalformedJSON, "", ""},
		"byte order mark":      {ct, "\xef\xbb\xbf{}", false, errMalformedJSON, "", ""},
		"too deep":             {ct, `{"meta":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, false, errMalformedJSON, "", ""},
		"string for bool":      {ct, `{"active":"yes"}`, false, errValidation, "active", "must be a boolean"},
		"number for string":    {ct, `{"name":1}`, false, errValidation, "name", "must be a string"},
		"string for number":    {ct, `{"count":"1"}`, false, errValidation, "count", "must be a number"},
		"number out of range":  {ct, `{"count":1000}`, false, errValidation, "count", "is out of range"},
		"fraction for integer": {ct, `{"count":1.5}`, false, errValidation, "count", "must be an integer"},
		"exponent for integer": {ct, `{"count":1e2}`, false, errValidation, "count", "must be an integer"},
		"object for array":     {ct, `{"tags":{}}`, false, errValidation, "tags", "must be an array"},
		"wrong type in array":  {ct, `{"tags":[1]}`, false, errValidation, "tags", "must be a string"},
		"array for object":     {ct, `{"nested":[]}`, false, errValidation, "nested", "must be an object"},
		"nested field":         {ct, `{"nested":{"X":"1"}}`, false, errValidation, "nested.X", "must be a number"},
		"map value":            {ct, `{"meta":{"a":"b"}}`, false, errValidation, "meta", "must be a number"},
		// A member named twice, or an escaped unpaired surrogate, could mean one thing here
		// and another to the next reader: refused, not last-one-wins or U+FFFD.
		"duplicate member":              {ct, `{"name":"a","name":"b"}`, false, errMalformedJSON, "", ""},
		"duplicate up to case":          {ct, `{"name":"a","NAME":"b"}`, false, errMalformedJSON, "", ""},
		"duplicate through an escape":   {ct, `{"name":"a","n\u0061me":"b"}`, false, errMalformedJSON, "", ""},
		"duplicate by Kelvin sign":      {ct, `{"k":1,"\u212a":2}`, false, errMalformedJSON, "", ""},
		"duplicate unknown member":      {ct, `{"x":1,"y":2,"x":3}`, false, errMalformedJSON, "", ""},
		"duplicate in a nested object":  {ct, `{"nested":{"X":1,"x":2}}`, false, errMalformedJSON, "", ""},
		"duplicate in an array element": {ct, `{"tags":[],"list":[{"a":1},{"b":1,"b":2}]}`, false, errMalformedJSON, "", ""},
		"same name in other objects":    {ct, `{"a":{"name":1},"name":"x","b":[{"name":2},{"name":3}],"tags":["name","name"]}`, false, nil, "", ""},
		"name as a value":               {ct, `{"name":"name","a":"name"}`, false, nil, "", ""},
		"lone high surrogate":           {ct, `{"name":"\ud800"}`, false, errMalformedJSON, "", ""},
		"lone low surrogate":            {ct, `{"name":"x\udc00"}`, false, errMalformedJSON, "", ""},
		"high surrogate, then a letter": {ct, `{"name":"\ud800\u0041"}`, false, errMalformedJSON, "", ""},
		"high surrogate at the end":     {ct, `{"name":"\uD800"}`, false, errMalformedJSON, "", ""},
		"pair in the wrong order":       {ct, `{"name":"\udc00\ud800"}`, false, errMalformedJSON, "", ""},
		"lone surrogate in a name":      {ct, `{"\ud800":1}`, false, errMalformedJSON, "", ""},
		"lone surrogate nested":         {ct, `{"tags":["\udfff"]}`, false, errMalformedJSON, "", ""},
		"surrogate pair":                {ct, `{"name":"\ud83d\udcc8 \uD83D\uDCC8"}`, false, nil, "", ""},
		"escaped backslash, then u":     {ct, `{"name":"\\ud800"}`, false, nil, "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var dst decodeTarget
			err := decodeBody(tc.contentType, []byte(tc.body), &dst, tc.allowEmpty)
			switch tc.kind {
			case nil:
				require.NoError(t, err)
			case errValidation:
				var ve *domain.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tc.field, ve.Field)
				assert.Equal(t, tc.message, ve.Message)
			default:
				require.ErrorIs(t, err, tc.kind)
			}
		})
	}
}

func TestDecodeBody_KeepsWhatStrictJSONAllows(t *testing.T) {
	t.Parallel()
	var dst decodeTarget
	require.NoError(t, decodeBody("application/json", []byte(`{"name":"\ud83d\udcc8\\ud800","tags":["a","a"]}`), &dst, false))
	assert.Equal(t, "📈\\ud800", dst.Name)
	assert.Equal(t, []string{"a", "a"}, dst.Tags)
}

// errValidation marks the cases above that expect a *domain.ValidationError.
var errValidation = errors.New("validation")

func TestDecodeBody_UnknownFieldsCannotSetAnything(t *testing.T) {
	t.Parallel()
	var req CreateAccountRequest
	require.NoError(t, decodeBody("application/json", []byte(`{"account_name":"a","user_id":"u","id":"i","created_at":"c"}`), &req, false))
	assert.Equal(t, CreateAccountRequest{AccountName: "a"}, req)
}

func TestDecodeBody_NotAStructPointerIsABug(t *testing.T) {
	t.Parallel()
	err := decodeBody("application/json", []byte(`{}`), decodeTarget{}, false)
	require.Error(t, err)
	assert.Equal(t, 500, problemFor(err).Status)
}

// Input that would show or read as something else changes nothing: a label with a format
// character is 422 for its field, a member named twice or an escaped unpaired surrogate is
// 400 malformed_json, on every route that takes a label.
func TestLookalikeInputIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	cred := e.storeCredential(t, asBrowserA(), accountID, "")
	store := func(nickname string) string {
		return `{"account_id":"` + accountID + `","credential_type":"alpaca","api_key":"AK","secret_key":"SK","nickname":` + nickname + `}`
	}
	cases := map[string]struct {
		method, path, body string
		status             int
		code, field        string
	}{
		"name with a right-to-left override":    {http.MethodPost, "/api/accounts", `{"account_name":"\u202egnp.exe"}`, 422, "validation_failed", "account_name"},
		"name with a raw override":              {http.MethodPost, "/api/accounts", "{\"account_name\":\"\u202egnp.exe\"}", 422, "validation_failed", "account_name"},
		"name with a zero-width space":          {http.MethodPost, "/api/accounts", `{"account_name":"ad\u200bmin"}`, 422, "validation_failed", "account_name"},
		"name with a byte-order mark":           {http.MethodPost, "/api/accounts", `{"account_name":"\ufeffMain"}`, 422, "validation_failed", "account_name"},
		"name with a lone surrogate":            {http.MethodPost, "/api/accounts", `{"account_name":"\ud800"}`, 400, "malformed_json", ""},
		"name given twice":                      {http.MethodPost, "/api/accounts", `{"account_name":"Main","account_name":"\u202eniaM"}`, 400, "malformed_json", ""},
		"stored nickname with an isolate":       {http.MethodPost, "/api/credentials/store", store(`"\u2067live\u2069"`), 422, "validation_failed", "nickname"},
		"stored nickname with a lone surrogate": {http.MethodPost, "/api/credentials/store", store(`"\udc00"`), 400, "malformed_json", ""},
		"stored nickname given twice":           {http.MethodPost, "/api/credentials/store", `{"nickname":"a",` + store(`"b"`)[1:], 400, "malformed_json", ""},
		"new nickname with a joiner":            {http.MethodPut, "/api/credentials/" + cred.ID, `{"nickname":"a\u200db"}`, 422, "validation_failed", "nickname"},
		"new nickname up to case twice":         {http.MethodPut, "/api/credentials/" + cred.ID, `{"nickname":"a","NICKNAME":"b"}`, 400, "malformed_json", ""},
		"new nickname with a lone surrogate":    {http.MethodPut, "/api/credentials/" + cred.ID, `{"nickname":"\ud83d"}`, 400, "malformed_json", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := requireProblem(t, e.do(newRequest(tc.method, tc.path, tc.body, asBrowserA())), tc.status, tc.code)
			if tc.field != "" {
				require.Len(t, p.Errors, 1)
				assert.Equal(t, tc.field, p.Errors[0].Field)
			}
		})
	}
	accounts := e.accountsOf(userA)
	require.Len(t, accounts, 1)
	assert.Equal(t, account.DefaultName, accounts[0].Name().String())
	id, err := domain.ParseID(accountID)
	require.NoError(t, err)
	creds, _, err := e.store.Credentials().List(context.Background(), e.store.SignIn(userA), id, credential.Page{Size: credential.MaxPageSize})
	require.NoError(t, err)
	require.Len(t, creds, 1)
	assert.Equal(t, "alpaca", creds[0].Nickname().String())
}

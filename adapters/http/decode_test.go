package httpadapter

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
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

// errValidation marks the cases above that expect a *domain.ValidationError.
var errValidation = errors.New("validation")

func TestDecodeBody_UnknownFieldsCannotSetAnything(t *testing.T) {
	var req CreateAccountRequest
	require.NoError(t, decodeBody("application/json", []byte(`{"account_name":"a","user_id":"u","id":"i","created_at":"c"}`), &req, false))
	assert.Equal(t, CreateAccountRequest{AccountName: "a"}, req)
}

func TestDecodeBody_NotAStructPointerIsABug(t *testing.T) {
	err := decodeBody("application/json", []byte(`{}`), decodeTarget{}, false)
	require.Error(t, err)
	assert.Equal(t, 500, problemFor(err).Status)
}

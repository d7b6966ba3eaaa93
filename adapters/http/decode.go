package httpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/domain"
)

// decodeJSON reads the request body into dst, a pointer to a request struct. See decodeBody.
func decodeJSON(c *fiber.Ctx, dst any, allowEmpty bool) error {
	return decodeBody(c.Get(fiber.HeaderContentType), c.Body(), dst, allowEmpty)
}

// decodeBody is the adapter's one JSON reader:
//   - an empty body is accepted only when allowEmpty (dst keeps its zero value);
//   - otherwise Content-Type must be application/json (parameters allowed, charset utf-8),
//     else errUnsupportedMediaType (415), which also stops form posts (CVE-2025-48075);
//   - the body must be UTF-8 and exactly one JSON object, naming no member twice and
//     escaping no unpaired surrogate (see checkStrictJSON), else errMalformedJSON (400);
//   - a field of the wrong type is a *domain.ValidationError for that field (422);
//   - unknown fields are ignored: ids and owners come from the session, never the body, so
//     a "user_id" or "id" sent by the client has nothing to land in.
//
// json.Unmarshal copies every string out of body, so dst holds nothing of Fiber's buffers.
func decodeBody(contentType string, body []byte, dst any, allowEmpty bool) error {
	if len(body) == 0 {
		if allowEmpty {
			return nil
		}
		return &clientError{errMalformedJSON, "The request body is empty; send a JSON object."}
	}
	if err := checkJSONContentType(contentType); err != nil {
		return err
	}
	// encoding/json would silently turn invalid UTF-8 into U+FFFD and store that.
	if !utf8.Valid(body) {
		return &clientError{errMalformedJSON, "The request body is not valid UTF-8."}
	}
	// Valid also rejects trailing data and nesting deeper than encoding/json's limit.
	if !json.Valid(body) {
		return &clientError{errMalformedJSON, "The request body is not valid JSON."}
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); trimmed[0] != '{' {
		return &clientError{errMalformedJSON, "The request body must be a JSON object."}
	}
	if err := checkStrictJSON(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return typeError(te)
		}
		return fmt.Errorf("decode JSON body: %w", err) // dst is not a struct pointer: a bug, 500
	}
	return nil
}

// checkJSONContentType accepts application/json with any parameters, except a charset
// other than UTF-8 (RFC 8259 JSON is UTF-8).
func checkJSONContentType(contentType string) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return &clientError{errUnsupportedMediaType, "The request body must be sent as application/json."}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return &clientError{errUnsupportedMediaType, "The request body must be UTF-8."}
	}
	return nil
}

// typeError names the field whose JSON type is wrong; the message never echoes the value.
func typeError(te *json.UnmarshalTypeError) error {
	field := te.Field
	if field == "" {
		field = "body"
	}
	// A JSON number that reached a Go number did not fit it (te.Value is "number <literal>").
	if num, ok := strings.CutPrefix(te.Value, "number "); ok && isNumberKind(te.Type) {
		if strings.ContainsAny(num, ".eE") && te.Type.Kind() != reflect.Float32 && te.Type.Kind() != reflect.Float64 {
			return domain.Invalid(field, "must be an integer")
		}
		return domain.Invalid(field, "is out of range")
	}
	return domain.Invalid(field, "must be "+jsonKind(te.Type))
}

func isNumberKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// jsonKind describes a Go target type in JSON's words.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "a boolean"
	case isNumberKind(t):
		return "a number"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "an array"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "an object"
	}
	return "of another type"
}

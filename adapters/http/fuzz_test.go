package httpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/brokerly/accounts/domain"
)

// fuzzSeeds are shared by both fuzzers; testdata/fuzz holds more, committed.
var fuzzSeeds = []struct {
	contentType string
	body        string
}{
	{"application/json", `{"account_name":"My Alpaca"}`},
	{"application/json; charset=utf-8", `{"account_name":"  x  ","user_id":"someone","id":"x"}`},
	{"application/json", `{"account_name":1}`},
	{"application/json", `{"account_name":"\u0000"}`},
	{"application/json", `{"account_name":"a"}{"account_name":"b"}`},
	{"application/json", `[{"account_name":"a"}]`},
	{"application/json", `{"account_name":` + strings.Repeat("[", 64)},
	{"application/json", "{\"account_name\":\"\xff\"}"},
	{"application/json", ""},
	{"text/plain", `{"account_name":"x"}`},
	{"application/x-www-form-urlencoded", "a[-1]=x&a[99999999]=x&account_name=x"},
	{"", `{}`},
	{"application/json; charset=latin1", `{}`},
}

// FuzzDecodeCreateAccount posts arbitrary bodies and content types to POST /api/accounts
// through the whole middleware chain: the answer is always one of the contract's statuses
// for this endpoint, never a 5xx or a crash, and agrees with decodeBody's verdict.
func FuzzDecodeCreateAccount(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.contentType, []byte(s.body))
	}
	e := newEnv(f, withoutLogs())
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if len(body) > DefaultBodyLimit || !validHeaderValue(contentType) {
			t.Skip("oversized bodies and unsendable headers are tested elsewhere")
		}
		req := httptest.NewRequest(http.MethodPost, "/api/accounts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bearerA)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := e.send(t, req, uncheckedInput) // fuzzed: only the answer is checked
		if err != nil {
			t.Fatalf("app.Test: %v", err)
		}
		defer resp.Body.Close()
		got := readBody(t, resp)
		if !json.Valid(got) {
			t.Fatalf("status %d with a body that is not JSON: %q", resp.StatusCode, got)
		}

		var req2 CreateAccountRequest
		derr := decodeBody(strings.Trim(contentType, " \t"), body, &req2, false)
		switch {
		case derr != nil:
			if want := problemFor(derr).Status; resp.StatusCode != want {
				t.Fatalf("decodeBody says %d (%v), the server answered %d: %s", want, derr, resp.StatusCode, got)
			}
		case resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict &&
			resp.StatusCode != http.StatusUnprocessableEntity:
			t.Fatalf("a decodable body got %d: %s", resp.StatusCode, got)
		case resp.StatusCode == http.StatusCreated:
			var a UserAccount
			if err := json.Unmarshal(got, &a); err != nil {
				t.Fatalf("201 without an account: %s", got)
			}
			requireShownAsStored(t, a.AccountName)
		}
	})
}

// FuzzDecodeBody checks decodeBody's contract on any input: it never panics, accepts only
// UTF-8 JSON objects sent as application/json (or an allowed empty body), and every error
// it returns maps to a 4xx, never to a 500.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.contentType, []byte(s.body), false)
		f.Add(s.contentType, []byte(s.body), true)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte, allowEmpty bool) {
		var dst decodeTarget
		err := decodeBody(contentType, body, &dst, allowEmpty)
		if err == nil {
			if len(body) == 0 {
				if !allowEmpty {
					t.Fatal("an empty body was accepted where it is not allowed")
				}
				return
			}
			if checkJSONContentType(contentType) != nil || !utf8.Valid(body) || !json.Valid(body) ||
				bytes.TrimLeft(body, " \t\r\n")[0] != '{' {
				t.Fatalf("accepted %q as %q", body, contentType)
			}
			if name, dup := duplicateMember(body); dup {
				t.Fatalf("accepted %q, which names %q twice", body, name)
			}
			if replacedSurrogate(body) {
				t.Fatalf("accepted %q, whose unpaired surrogate decodes to U+FFFD", body)
			}
			return
		}
		p := problemFor(err)
		switch p.Status {
		case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		case http.StatusUnprocessableEntity:
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" || !json.Valid(body) {
				t.Fatalf("422 without a field or for invalid JSON: %v", err)
			}
		default:
			t.Fatalf("decodeBody error maps to %d: %v", p.Status, err)
		}
	})
}

// validHeaderValue is what an HTTP client could actually send as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < 0x20 && b != '\t') || b == 0x7f || b >= 0x80 {
			return false
		}
	}
	return true
}

// duplicateMember is an oracle for checkStrictJSON, written differently: it walks body's
// tokens and reports a member name an object holds twice, up to case (as encoding/json
// matches names). body must be valid JSON.
func duplicateMember(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func() (string, bool)
	walk = func() (string, bool) {
		tok, err := dec.Token()
		if d, ok := tok.(json.Delim); err != nil || !ok {
			return "", false // a scalar
		} else if d == '[' {
			for dec.More() {
				if name, dup := walk(); dup {
					return name, true
				}
			}
			_, _ = dec.Token()
			return "", false
		}
		var names []string
		for dec.More() {
			tok, _ := dec.Token()
			name, _ := tok.(string)
			for _, n := range names {
				if strings.EqualFold(n, name) {
					return name, true
				}
			}
			names = append(names, name)
			if name, dup := walk(); dup {
				return name, true
			}
		}
		_, _ = dec.Token()
		return "", false
	}
	return walk()
}

// replacedSurrogate reports whether a decoded string of body holds U+FFFD that body never
// spelled out (literally or as \ufffd): then an unpaired surrogate escape became it.
func replacedSurrogate(body []byte) bool {
	if bytes.Contains(body, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(body), []byte("\ufffd")) ||
		bytes.ContainsRune(body, utf8.RuneError) {
		return false
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	return strings.ContainsRune(fmt.Sprint(v), utf8.RuneError)
}

// requireShownAsStored fails when an accepted label holds a character that would make it
// show as something else: a control or format (Cf) character.
func requireShownAsStored(t *testing.T, label string) {
	t.Helper()
	if i := strings.IndexFunc(label, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }); i >= 0 {
		t.Fatalf("accepted the label %q with an invisible or control character at byte %d", label, i)
	}
}

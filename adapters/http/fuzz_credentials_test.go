package httpadapter

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// accountPlaceholder in a store seed becomes user A's real account id, so the fuzzer starts
// from bodies that can succeed and mutates from there.
const accountPlaceholder = "{{account}}"

var storeCredentialSeeds = []struct{ contentType, body string }{
	{"application/json", `{"account_id":"{{account}}","credential_type":"alpaca","api_key":"AKSEED","secret_key":"SKSEED"}`},
	{"application/json", `{"account_id":"{{account}}","credential_type":"alpaca","environment":"live","api_key":"AK","secret_key":"SK","nickname":"main"}`},
	{"application/json; charset=utf-8", `{"account_id":"{{account}}","credential_type":"alpaca","api_key":"AK","secret_key":"SK","user_id":"someone","id":"x","key_id":"k9","created_at":"2020-01-01T00:00:00Z"}`},
	{"application/json", `{"account_id":"00000000-0000-0000-0000-000000000000","credential_type":"alpaca","api_key":"AK","secret_key":"SK"}`},
	{"application/json", `{"account_id":"{{account}}","credential_type":"ibkr","environment":"moon","api_key":"","secret_key":1}`},
	{"application/json", `{"account_id":"{{account}}","credential_type":"alpaca","api_key":"AK","secret_key":"SK","nickname":null}`},
	{"application/json", `{"account_id":"{{account}}","api_key":"` + strings.Repeat("A", 2000) + `","secret_key":"\u0000"}`},
	{"application/json", `{"account_id":` + strings.Repeat("[", 64)},
	{"application/json", `[{"account_id":"{{account}}"}]`},
	{"application/json", ""},
	{"text/plain", `{"account_id":"{{account}}","credential_type":"alpaca","api_key":"AK","secret_key":"SK"}`},
	{"application/x-www-form-urlencoded", "a[-1]=x&a[99999999]=x&account_id={{account}}"},
}

var updateCredentialSeeds = []struct{ contentType, body string }{
	{"application/json", `{"nickname":"renamed"}`},
	{"application/json", `{"is_active":false}`},
	{"application/json", `{"api_key":"AKNEW","secret_key":"SKNEW"}`},
	{"application/json", `{}`},
	{"application/json", `{"id":"x","user_id":"someone","account_id":"00000000-0000-0000-0000-000000000000"}`},
	{"application/json", `{"is_active":"yes","nickname":1}`},
	{"application/json", `{"nickname":"","api_key":"","secret_key":null}`},
	{"application/json", `{"nickname":"` + strings.Repeat("n", 300) + `"}`},
	{"application/json", `{"nickname":` + strings.Repeat("{\"a\":", 64)},
	{"application/json", "{\"nickname\":\"\xff\"}"},
	{"application/json", ""},
	{"text/plain", `{"nickname":"x"}`},
	{"application/x-www-form-urlencoded", "a[-1]=x&a[99999999]=x&nickname=x"},
}

// fuzzEndpoint is the body of the whole-app fuzzers below: it sends method path with the
// fuzzed content type and body as user A's bearer session and checks that the answer is
// JSON, one of ok when the body decodes, and exactly decodeBody's status when it does not.
// It returns the response body.
func fuzzEndpoint(t *testing.T, e *env, method, path, contentType string, body []byte, dst any, ok ...int) (int, []byte) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
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
	derr := decodeBody(strings.Trim(contentType, " \t"), body, dst, false)
	switch {
	case derr != nil:
		if want := problemFor(derr).Status; resp.StatusCode != want {
			t.Fatalf("decodeBody says %d (%v), the server answered %d: %s", want, derr, resp.StatusCode, got)
		}
	case !slices.Contains(ok, resp.StatusCode):
		t.Fatalf("a decodable body got %d, want one of %v: %s", resp.StatusCode, ok, got)
	}
	return resp.StatusCode, got
}

// FuzzDecodeStoreCredential posts arbitrary bodies and content types to
// POST /api/credentials/store through the whole middleware chain (test 30 of docs/reliability.md):
// never a 5xx or a crash. Stored credentials are deleted again so memory stays flat.
func FuzzDecodeStoreCredential(f *testing.F) {
	for _, s := range storeCredentialSeeds {
		f.Add(s.contentType, []byte(s.body))
	}
	e := newEnv(f, withoutLogs())
	accountID := e.accountOf(f, withBearer(bearerA))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		body = bytes.ReplaceAll(body, []byte(accountPlaceholder), []byte(accountID))
		if len(body) > DefaultBodyLimit || !validHeaderValue(contentType) {
			t.Skip("oversized bodies and unsendable headers are tested elsewhere")
		}
		var dst StoreCredentialRequest
		status, got := fuzzEndpoint(t, e, http.MethodPost, "/api/credentials/store", contentType, body, &dst,
			http.StatusCreated, http.StatusNotFound, http.StatusUnprocessableEntity)
		if status != http.StatusCreated {
			return
		}
		var c Credential
		if err := json.Unmarshal(got, &c); err != nil || c.ID == "" {
			t.Fatalf("201 without a credential: %s", got)
		}
		if bytes.Contains(got, []byte(dst.APIKey)) && len(dst.APIKey) >= 8 || bytes.Contains(got, []byte(dst.SecretKey)) && len(dst.SecretKey) >= 8 {
			t.Fatalf("the response carries the key or secret: %s", got)
		}
		resp, err := e.send(t, newRequest(http.MethodDelete, "/api/credentials/"+c.ID, "", withBearer(bearerA)), checkRequest)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete after store: %v %v", resp, err)
		}
		_ = resp.Body.Close()
	})
}

// FuzzDecodeUpdateCredential sends arbitrary bodies and content types to
// PUT /api/credentials/{id} for a credential of the caller (test 30 of docs/reliability.md).
func FuzzDecodeUpdateCredential(f *testing.F) {
	for _, s := range updateCredentialSeeds {
		f.Add(s.contentType, []byte(s.body))
	}
	e := newEnv(f, withoutLogs())
	cred := e.storeCredential(f, both(withBearer(bearerA), withJSON()), e.accountOf(f, withBearer(bearerA)), "")
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if len(body) > DefaultBodyLimit || !validHeaderValue(contentType) {
			t.Skip("oversized bodies and unsendable headers are tested elsewhere")
		}
		var dst UpdateCredentialRequest
		status, got := fuzzEndpoint(t, e, http.MethodPut, "/api/credentials/"+cred.ID, contentType, body, &dst,
			http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity)
		if status == http.StatusOK {
			var c Credential
			if err := json.Unmarshal(got, &c); err != nil || c.ID != cred.ID {
				t.Fatalf("200 with another credential: %s", got)
			}
		}
	})
}

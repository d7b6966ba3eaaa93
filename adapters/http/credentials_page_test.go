package httpadapter

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain/credential"
)

// The list comes a page at a time: next_cursor leads to the rest, and is null at the end.
func TestListCredentials_Pages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	stored := map[string]bool{}
	for range 5 {
		stored[e.storeCredential(t, asBrowserA(), accountID, "").ID] = true
	}
	seen := map[string]bool{}
	url := "/api/credentials?account_id=" + accountID + "&limit=2"
	for pages := 1; ; pages++ {
		resp := e.do(newRequest(http.MethodGet, url, "", asBrowserA()))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		raw := readBody(t, resp)
		var body map[string]any
		require.NoError(t, jsonUnmarshal(raw, &body))
		require.Contains(t, body, "next_cursor", "the key is always there, null at the end")
		var page CredentialList
		require.NoError(t, jsonUnmarshal(raw, &page))
		assert.Equal(t, "success", page.Status)
		assert.Equal(t, len(page.Credentials), page.Count)
		for _, c := range page.Credentials {
			assert.False(t, seen[c.ID], "no credential twice")
			seen[c.ID] = true
		}
		if page.NextCursor == nil {
			assert.Equal(t, 3, pages)
			break
		}
		url = "/api/credentials?account_id=" + accountID + "&limit=2&cursor=" + *page.NextCursor
	}
	assert.Equal(t, stored, seen)

	// The default page holds them all.
	all := decodeAs[CredentialList](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID, "", asBrowserA())))
	assert.Equal(t, 5, all.Count)
	assert.Nil(t, all.NextCursor)
}

func TestListCredentials_BadLimitOrCursorIs422(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	for query, field := range map[string]string{
		"&limit=0":          "limit",
		"&limit=201":        "limit",
		"&limit=-5":         "limit",
		"&limit=ten":        "limit",
		"&limit=1.5":        "limit",
		"&cursor=nonsense":  "cursor",
		"&cursor=AQAAAAAAA": "cursor",
	} {
		t.Run(query, func(t *testing.T) {
			p := requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID+query, "", asBrowserA(), deliberatelyInvalid())),
				http.StatusUnprocessableEntity, "validation_failed")
			require.Len(t, p.Errors, 1)
			assert.Equal(t, field, p.Errors[0].Field)
		})
	}
	ok := e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID+"&limit=200", "", asBrowserA()))
	assert.Equal(t, http.StatusOK, ok.StatusCode, "200 is the largest page")
}

// An account holds at most its limit of credentials: the next store is 409
// credential_limit and stores nothing, and deleting one makes room again.
func TestStoreCredential_PastTheLimitIs409(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	var last Credential
	for range credential.DefaultPerAccount {
		last = e.storeCredential(t, asBrowserA(), accountID, "")
	}
	body := fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"K","secret_key":"S"}`, accountID)
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/store", body, asBrowserA())), http.StatusConflict, "credential_limit")
	list := decodeAs[CredentialList](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID+"&limit=200", "", asBrowserA())))
	assert.Equal(t, credential.DefaultPerAccount, list.Count)

	require.Equal(t, http.StatusNoContent, e.do(newRequest(http.MethodDelete, "/api/credentials/"+last.ID, "", asBrowserA())).StatusCode)
	e.storeCredential(t, asBrowserA(), accountID, "")
}

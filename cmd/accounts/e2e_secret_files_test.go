package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// The binary reads its secrets from the files their _FILE variables name, in every
// command, and refuses an unusable one with exit code 2 and one line naming it.
func TestSecretsFromFilesThroughTheBinary(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	secretFile := writeSecret(t, servicetest.Secret+"\n")
	keysFile := writeSecret(t, servicetest.Keys+"\n")
	fromFiles := []string{"BETTER_AUTH_SECRET=", "BETTER_AUTH_SECRET_FILE=" + secretFile, "CREDENTIAL_KEYS=", "CREDENTIAL_KEYS_FILE=" + keysFile}

	svc := servicetest.Start(t, dbURL, fromFiles...)
	alice := servicetest.SignIn(t, dbURL, "alice-files")[0]
	res := request(t, svc, "POST", "/api/accounts/get-or-create", "", alice.Browser()...)
	require.Equal(t, 200, res.status, "a session signed with the file's secret: %s", res.raw)
	res = request(t, svc, "POST", "/api/credentials/store",
		`{"account_id":"`+res.body["account"].(map[string]any)["id"].(string)+`","credential_type":"alpaca","api_key":"AK","secret_key":"SK"}`, alice.Browser()...)
	require.Equal(t, 201, res.status, "sealed with the file's key: %s", res.raw)
	require.Equal(t, 0, svc.Stop(t))

	code, out, errOut := runCommand(t, []string{"DATABASE_URL=" + dbURL, "CREDENTIAL_KEYS_FILE=" + keysFile}, "credentials", "keys")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "e2e-1   primary  2")

	empty := writeSecret(t, "\n")
	for _, tc := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"migrate"}, []string{"CREDENTIAL_KEYS_FILE=" + empty}, "CREDENTIAL_KEYS_FILE: the file is empty"},
		{[]string{"credentials", "rotate"}, []string{"CREDENTIAL_KEYS_FILE=" + t.TempDir()}, "CREDENTIAL_KEYS_FILE: cannot read the file (is a directory)"},
		{[]string{"serve"}, []string{"BETTER_AUTH_SECRET=" + servicetest.Secret, "BETTER_AUTH_SECRET_FILE=" + secretFile, "CREDENTIAL_KEYS_FILE=" + keysFile},
			"BETTER_AUTH_SECRET and BETTER_AUTH_SECRET_FILE are both set; set one of them"},
	} {
		code, out := runServe(t, tc.env, tc.args...)
		require.Equal(t, 2, code, "%v: %s", tc.args, out)
		require.Equal(t, "accounts: invalid configuration:\n"+tc.want, strings.TrimSpace(out), tc.args)
	}
}

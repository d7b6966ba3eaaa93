package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// writeSecret writes content to a file of its own and returns the path.
func writeSecret(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// Each secret may come from the file its _FILE names, as container secret mounts provide
// it, with the trailing newline and white space cut off; everything else is unchanged.
func TestLoadConfigReadsSecretsFromFiles(t *testing.T) {
	t.Parallel()
	secrets := "2:" + servicetest.Secret + "-two, 1:" + servicetest.Secret
	cfg, err := LoadConfig(envOf(map[string]string{
		"BETTER_AUTH_SECRET_FILE":  writeSecret(t, " "+servicetest.Secret+"\n"),
		"BETTER_AUTH_SECRETS_FILE": writeSecret(t, secrets+"\r\n\t \n"),
		"CREDENTIAL_KEYS_FILE":     writeSecret(t, servicetest.Keys+"\n"),
	}))
	require.NoError(t, err)
	require.Equal(t, " "+servicetest.Secret, cfg.AuthSecret, "only trailing white space is cut")
	require.Equal(t, secrets, cfg.AuthSecrets)
	require.Equal(t, servicetest.Keys, cfg.CredentialKeys)
	_, err = newCipher(cfg)
	require.NoError(t, err, "the keys parse as read")
}

// A _FILE that cannot be used is one line naming the variable, never the file's content;
// so is setting a variable and its _FILE at once. Every problem is reported together.
func TestLoadConfigRefusesUnusableSecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	huge := writeSecret(t, strings.Repeat("k", maxSecretFile+1))
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"empty file":         {map[string]string{"CREDENTIAL_KEYS_FILE": writeSecret(t, "")}, "CREDENTIAL_KEYS_FILE: the file is empty"},
		"only a newline":     {map[string]string{"BETTER_AUTH_SECRET_FILE": writeSecret(t, " \n\n")}, "BETTER_AUTH_SECRET_FILE: the file is empty"},
		"no such file":       {map[string]string{"BETTER_AUTH_SECRETS_FILE": filepath.Join(dir, "missing")}, "BETTER_AUTH_SECRETS_FILE: cannot read the file (no such file or directory)"},
		"a directory":        {map[string]string{"BETTER_AUTH_SECRET_FILE": dir}, "BETTER_AUTH_SECRET_FILE: cannot read the file (is a directory)"},
		"larger than 64 KiB": {map[string]string{"CREDENTIAL_KEYS_FILE": huge}, "CREDENTIAL_KEYS_FILE: the file is larger than 64 KiB"},
		"both set": {map[string]string{"BETTER_AUTH_SECRET": servicetest.Secret, "BETTER_AUTH_SECRET_FILE": writeSecret(t, servicetest.Secret)},
			"BETTER_AUTH_SECRET and BETTER_AUTH_SECRET_FILE are both set; set one of them"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(envOf(tc.env))
			require.Error(t, err)
			require.Equal(t, tc.want, err.Error())
			require.NotContains(t, err.Error(), servicetest.Secret)
			require.NotContains(t, err.Error(), dir, "the path is the operator's own: not repeated")
		})
	}

	_, err := LoadConfig(envOf(map[string]string{
		"CREDENTIAL_KEYS_FILE": writeSecret(t, "\n"), "BETTER_AUTH_SECRETS": "1:x", "BETTER_AUTH_SECRETS_FILE": huge, "DB_MAX_CONNS": "0",
	}))
	require.Error(t, err)
	require.Equal(t, []string{
		"BETTER_AUTH_SECRETS and BETTER_AUTH_SECRETS_FILE are both set; set one of them",
		"CREDENTIAL_KEYS_FILE: the file is empty",
		"DB_MAX_CONNS must be a positive integer",
	}, strings.Split(err.Error(), "\n"))
}

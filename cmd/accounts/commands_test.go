package main

// Running the binary to completion, for the commands and for the boot refusals of serve.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// runCommand runs `accounts <args>` with exactly env (plus PATH), for at most a minute, and
// returns its exit code, stdout and stderr apart.
func runCommand(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, servicetest.Binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "accounts %v did not exit:\n%s", args, errOut.String())
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// runServe runs `accounts <args>` with env over defaults that can never serve anyone by
// accident (ephemeral ports, an unreachable database; later entries win), and returns its
// exit code and everything it printed.
func runServe(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	defaults := []string{"HTTP_ADDR=127.0.0.1:0", "METRICS_ADDR=127.0.0.1:0", "DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable"}
	code, stdout, stderr := runCommand(t, append(defaults, env...), args...)
	return code, stdout + stderr
}

// serveOnce is runServe on the database dbURL with the tests' secret and keys.
func serveOnce(t *testing.T, dbURL string, args ...string) (int, string) {
	t.Helper()
	return runServe(t, []string{"DATABASE_URL=" + dbURL, "BETTER_AUTH_SECRET=" + servicetest.Secret, "CREDENTIAL_KEYS=" + servicetest.Keys}, args...)
}

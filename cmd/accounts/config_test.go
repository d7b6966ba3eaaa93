package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
)

func envOf(m map[string]string) Environment {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(envOf(map[string]string{"BETTER_AUTH_SECRET": "s"}))
	require.NoError(t, err)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/accounts?sslmode=disable", cfg.DatabaseURL)
	require.Equal(t, ":9403", cfg.HTTPAddr)
	require.Equal(t, 8, cfg.DBMaxConns)
	require.Equal(t, "better-auth", cfg.CookiePrefix)
	require.False(t, cfg.SecureCookies)
	require.Empty(t, cfg.AllowedOrigins)
	require.Equal(t, zapcore.InfoLevel, cfg.LogLevel)
	require.Equal(t, 5*time.Second, cfg.RequestTimeout)
	require.Equal(t, 2*time.Second, cfg.DBAcquireTimeout)
	require.Zero(t, cfg.ShutdownDrain)
	require.Equal(t, 20.0, cfg.AuthFailureRate)
	require.Equal(t, 100, cfg.AuthFailureBurst)
	require.Equal(t, 4*time.Second, cfg.BrokerTimeout, "below REQUEST_TIMEOUT")
	require.Equal(t, "https://paper-api.alpaca.markets", cfg.AlpacaPaperURL)
	require.Equal(t, "https://api.alpaca.markets", cfg.AlpacaLiveURL)
}

// withOpenFileLimit makes the process appear to run under RLIMIT_NOFILE n. It changes a
// package variable that LoadConfig reads: never use it in a parallel test.
func withOpenFileLimit(t *testing.T, n uint64) {
	old := openFileLimit
	openFileLimit = func() uint64 { return n }
	t.Cleanup(func() { openFileLimit = old })
}

// The connection bounds default to what the open-file limit leaves for connections once
// the pool and the other descriptors have their share.
func TestLoadConfigDerivesTheConnectionBoundsFromTheOpenFileLimit(t *testing.T) {
	withOpenFileLimit(t, 20_000)
	cfg, err := LoadConfig(envOf(map[string]string{}))
	require.NoError(t, err)
	require.True(t, cfg.HTTPMaxConnsAuto)
	require.Equal(t, 20_000-fdReserve-cfg.DBMaxConns, cfg.HTTPMaxConns)
	require.Equal(t, 1024, cfg.HTTPMaxConnsPerIP)

	withOpenFileLimit(t, 256)
	cfg, err = LoadConfig(envOf(map[string]string{"DB_MAX_CONNS": "4"}))
	require.NoError(t, err)
	require.Equal(t, 256-fdReserve-4, cfg.HTTPMaxConns)
	require.Equal(t, (256-fdReserve-4)/4, cfg.HTTPMaxConnsPerIP, "a quarter of the overall bound when that is less than 1024")
	require.NoError(t, cfg.checkConnectionBounds())

	withOpenFileLimit(t, 100)
	cfg, err = LoadConfig(envOf(map[string]string{}))
	require.NoError(t, err)
	require.ErrorContains(t, cfg.checkConnectionBounds(), "HTTP_MAX_CONNS: the open-file limit (100) leaves fewer than 16 connections")

	cfg, err = LoadConfig(envOf(map[string]string{"HTTP_MAX_CONNS": "50", "HTTP_MAX_CONNS_PER_IP": "0"}))
	require.NoError(t, err)
	require.False(t, cfg.HTTPMaxConnsAuto)
	require.Equal(t, 50, cfg.HTTPMaxConns, "an explicit bound is kept")
	require.Zero(t, cfg.HTTPMaxConnsPerIP, "0 turns the per-client bound off")
	require.NoError(t, cfg.checkConnectionBounds())

	cfg, err = LoadConfig(envOf(map[string]string{"HTTP_MAX_CONNS": "0"}))
	require.NoError(t, err)
	require.Zero(t, cfg.HTTPMaxConns)
	require.Equal(t, 1024, cfg.HTTPMaxConnsPerIP)
}

func TestLoadConfigReadsEverything(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(envOf(map[string]string{
		"DATABASE_URL":               "postgres://app@db:5432/x",
		"HTTP_ADDR":                  "127.0.0.1:8080",
		"CORS_ALLOWED_ORIGINS":       " https://app.example.com/, http://localhost:5173 ,,",
		"BETTER_AUTH_SECURE_COOKIES": "true",
		"BETTER_AUTH_COOKIE_PREFIX":  "myapp",
		"LOG_LEVEL":                  "debug",
		"DB_MAX_CONNS":               "4",
		"REQUEST_TIMEOUT":            "2s",
		"DB_ACQUIRE_TIMEOUT":         "500ms",
		"SHUTDOWN_DRAIN_PERIOD":      "3s",
		"AUTH_FAILURE_RATE":          "0.5",
		"AUTH_FAILURE_BURST":         "7",
		"BROKER_TIMEOUT":             "1500ms",
		"HTTP_MAX_CONNS":             "1000",
		"HTTP_MAX_CONNS_PER_IP":      "20",
	}))
	require.NoError(t, err)
	require.Equal(t, "postgres://app@db:5432/x", cfg.DatabaseURL)
	require.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:5173"}, cfg.AllowedOrigins)
	require.True(t, cfg.SecureCookies)
	require.Equal(t, "myapp", cfg.CookiePrefix)
	require.Equal(t, zapcore.DebugLevel, cfg.LogLevel)
	require.Equal(t, 4, cfg.DBMaxConns)
	require.Equal(t, 2*time.Second, cfg.RequestTimeout)
	require.Equal(t, 500*time.Millisecond, cfg.DBAcquireTimeout)
	require.Equal(t, 3*time.Second, cfg.ShutdownDrain)
	require.Equal(t, 0.5, cfg.AuthFailureRate)
	require.Equal(t, 7, cfg.AuthFailureBurst)
	require.Equal(t, 1500*time.Millisecond, cfg.BrokerTimeout)
	require.Equal(t, 1000, cfg.HTTPMaxConns)
	require.Equal(t, 20, cfg.HTTPMaxConnsPerIP)
}

func TestLoadConfigReportsEveryBadValue(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(envOf(map[string]string{
		"DB_MAX_CONNS":               "0",
		"BETTER_AUTH_SECURE_COOKIES": "maybe",
		"LOG_LEVEL":                  "loud",
		"REQUEST_TIMEOUT":            "-1s",
		"CORS_ALLOWED_ORIGINS":       "*",
		"DB_ACQUIRE_TIMEOUT":         "0s",
		"SHUTDOWN_DRAIN_PERIOD":      "-1s",
		"AUTH_FAILURE_RATE":          "-1",
		"AUTH_FAILURE_BURST":         "0",
		"HTTP_MAX_CONNS":             "-5",
		"HTTP_MAX_CONNS_PER_IP":      "many",
	}))
	require.Error(t, err)
	for _, want := range []string{"DB_MAX_CONNS", "DB_ACQUIRE_TIMEOUT", "SHUTDOWN_DRAIN_PERIOD", "AUTH_FAILURE_RATE", "AUTH_FAILURE_BURST", "BETTER_AUTH_SECURE_COOKIES", "LOG_LEVEL", "REQUEST_TIMEOUT", "CORS_ALLOWED_ORIGINS", "HTTP_MAX_CONNS must", "HTTP_MAX_CONNS_PER_IP must"} {
		require.Contains(t, err.Error(), want)
	}
}

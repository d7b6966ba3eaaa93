package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
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
}

func TestLoadConfigReadsEverything(t *testing.T) {
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
}

func TestLoadConfigReportsEveryBadValue(t *testing.T) {
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
	}))
	require.Error(t, err)
	for _, want := range []string{"DB_MAX_CONNS", "DB_ACQUIRE_TIMEOUT", "SHUTDOWN_DRAIN_PERIOD", "AUTH_FAILURE_RATE", "AUTH_FAILURE_BURST", "BETTER_AUTH_SECURE_COOKIES", "LOG_LEVEL", "REQUEST_TIMEOUT", "CORS_ALLOWED_ORIGINS"} {
		require.Contains(t, err.Error(), want)
	}
}

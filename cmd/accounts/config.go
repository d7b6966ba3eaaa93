package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/brokerly/accounts/adapters/ratelimit"
	"github.com/brokerly/accounts/domain/credential"
)

// Config is read once, from the environment, and handed to the adapters as typed parts.
// Every variable is documented in the README with its default.
type Config struct {
	DatabaseURL      string
	DBMaxConns       int
	DBAcquireTimeout time.Duration
	HTTPAddr         string
	AllowedOrigins   []string
	AuthSecret       string
	AuthSecrets      string // BETTER_AUTH_SECRETS, Better Auth's versioned list; wins over AuthSecret
	CookiePrefix     string
	SecureCookies    bool
	LogLevel         zapcore.Level
	RequestTimeout   time.Duration
	ShutdownTimeout  time.Duration
	ShutdownDrain    time.Duration
	CredentialKeys   string // parsed by the cipher adapter, which owns the format
	AlpacaPaperURL   string
	AlpacaLiveURL    string
	BrokerTimeout    time.Duration
	AuthFailureRate  float64 // failed authentications per second per client IP; 0 disables the limit
	AuthFailureBurst int
	// CredentialsPerAccount caps the credentials one account may hold.
	CredentialsPerAccount int
	// BrokerRatePerMinute and BrokerBurst are each user's budget of broker calls.
	BrokerRatePerMinute int
	BrokerBurst         int
	// MetricsAddr is where Prometheus metrics are served, apart from HTTPAddr; "" turns
	// them off. AccessLog writes one line per request (errors are logged either way).
	MetricsAddr string
	AccessLog   bool
	// HTTPMaxConns and HTTPMaxConnsPerIP bound the open HTTP connections (0: no bound).
	// HTTPMaxConnsAuto says HTTPMaxConns was derived from OpenFileLimit (see maxconns.go).
	HTTPMaxConns      int
	HTTPMaxConnsPerIP int
	HTTPMaxConnsAuto  bool
	OpenFileLimit     uint64 // the process's RLIMIT_NOFILE; 0 when unknown
}

// maxCredentialsPerAccount keeps even a configured cap within what one page of the list
// shows: a user can always see every credential they hold in one request.
const maxCredentialsPerAccount = credential.MaxPageSize

const defaultMetricsAddr = "127.0.0.1:9404"

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/accounts?sslmode=disable"

// Environment looks a variable up, as os.LookupEnv does: tests pass a map instead.
type Environment func(key string) (value string, set bool)

// LoadConfig reads the environment and reports every problem at once, so an operator fixes
// the configuration in one go. An empty variable means its default, but for METRICS_ADDR,
// whose empty value turns metrics off.
func LoadConfig(lookup Environment) (Config, error) {
	getenv, errs := withSecretFiles(func(key string) string { v, _ := lookup(key); return v })
	env := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	cfg := Config{
		DatabaseURL:    env("DATABASE_URL", defaultDatabaseURL),
		HTTPAddr:       env("HTTP_ADDR", ":9403"),
		AllowedOrigins: splitList(getenv("CORS_ALLOWED_ORIGINS")),
		AuthSecret:     getenv("BETTER_AUTH_SECRET"), // not trimmed: Better Auth signs with it as-is
		AuthSecrets:    getenv("BETTER_AUTH_SECRETS"),
		CookiePrefix:   env("BETTER_AUTH_COOKIE_PREFIX", "better-auth"),
		CredentialKeys: getenv("CREDENTIAL_KEYS"),
		AlpacaPaperURL: env("ALPACA_PAPER_URL", "https://paper-api.alpaca.markets"),
		AlpacaLiveURL:  env("ALPACA_LIVE_URL", "https://api.alpaca.markets"),
	}
	var err error
	if cfg.DBMaxConns, err = strconv.Atoi(env("DB_MAX_CONNS", "8")); err != nil || cfg.DBMaxConns < 1 {
		errs = append(errs, fmt.Errorf("DB_MAX_CONNS must be a positive integer"))
	}
	if cfg.DBAcquireTimeout, err = parsePositiveDuration(env("DB_ACQUIRE_TIMEOUT", "2s")); err != nil {
		errs = append(errs, fmt.Errorf("DB_ACQUIRE_TIMEOUT: %w", err))
	}
	if cfg.AuthFailureRate, err = strconv.ParseFloat(env("AUTH_FAILURE_RATE", "20"), 64); err != nil ||
		cfg.AuthFailureRate < 0 || math.IsInf(cfg.AuthFailureRate, 0) || math.IsNaN(cfg.AuthFailureRate) {
		errs = append(errs, fmt.Errorf("AUTH_FAILURE_RATE must be a non-negative number (failures per second; 0 turns the limit off)"))
	}
	if cfg.AuthFailureBurst, err = strconv.Atoi(env("AUTH_FAILURE_BURST", "100")); err != nil || cfg.AuthFailureBurst < 1 {
		errs = append(errs, fmt.Errorf("AUTH_FAILURE_BURST must be a positive integer"))
	}
	if cfg.CredentialsPerAccount, err = strconv.Atoi(env("CREDENTIALS_PER_ACCOUNT", strconv.Itoa(credential.DefaultPerAccount))); err != nil ||
		cfg.CredentialsPerAccount < 1 || cfg.CredentialsPerAccount > maxCredentialsPerAccount {
		errs = append(errs, fmt.Errorf("CREDENTIALS_PER_ACCOUNT must be an integer from 1 to %d", maxCredentialsPerAccount))
	}
	if cfg.SecureCookies, err = strconv.ParseBool(env("BETTER_AUTH_SECURE_COOKIES", "false")); err != nil {
		errs = append(errs, fmt.Errorf("BETTER_AUTH_SECURE_COOKIES must be true or false"))
	}
	cfg.MetricsAddr = defaultMetricsAddr
	if v, set := lookup("METRICS_ADDR"); set {
		cfg.MetricsAddr = strings.TrimSpace(v) // empty: metrics off
	}
	if cfg.AccessLog, err = strconv.ParseBool(env("ACCESS_LOG", "true")); err != nil {
		errs = append(errs, fmt.Errorf("ACCESS_LOG must be true or false"))
	}
	if cfg.LogLevel, err = zapcore.ParseLevel(env("LOG_LEVEL", "info")); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error"))
	}
	if cfg.RequestTimeout, err = parsePositiveDuration(env("REQUEST_TIMEOUT", "5s")); err != nil {
		errs = append(errs, fmt.Errorf("REQUEST_TIMEOUT: %w", err))
	}
	if cfg.ShutdownTimeout, err = parsePositiveDuration(env("SHUTDOWN_TIMEOUT", "15s")); err != nil {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT: %w", err))
	}
	if cfg.ShutdownDrain, err = parseNonNegativeDuration(env("SHUTDOWN_DRAIN_PERIOD", "0s")); err != nil {
		errs = append(errs, fmt.Errorf("SHUTDOWN_DRAIN_PERIOD: %w", err))
	}
	if cfg.BrokerTimeout, err = parsePositiveDuration(env("BROKER_TIMEOUT", "4s")); err != nil {
		errs = append(errs, fmt.Errorf("BROKER_TIMEOUT: %w", err))
	}
	if cfg.BrokerRatePerMinute, err = strconv.Atoi(env("BROKER_RATE_PER_MINUTE", strconv.Itoa(ratelimit.DefaultCallsPerMinute))); err != nil || cfg.BrokerRatePerMinute < 1 {
		errs = append(errs, fmt.Errorf("BROKER_RATE_PER_MINUTE must be a positive integer (broker calls per minute per user)"))
	}
	if cfg.BrokerBurst, err = strconv.Atoi(env("BROKER_BURST", strconv.Itoa(ratelimit.DefaultBurst))); err != nil || cfg.BrokerBurst < 1 {
		errs = append(errs, fmt.Errorf("BROKER_BURST must be a positive integer (broker calls a user may make at once)"))
	}
	errs = append(errs, cfg.loadConnectionBounds(getenv("HTTP_MAX_CONNS"), getenv("HTTP_MAX_CONNS_PER_IP"))...)
	for _, o := range cfg.AllowedOrigins {
		if o == "*" || o == "null" || !(strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://")) {
			errs = append(errs, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an exact http(s) origin", o))
		}
	}
	return cfg, errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, strings.TrimSuffix(part, "/"))
		}
	}
	return out
}

func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 5s", s)
	}
	return d, nil
}

func parseNonNegativeDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 0s or 5s", s)
	}
	return d, nil
}

// osGetenv is the process environment, for what is read before the configuration (GOGC).
var osGetenv = os.Getenv

package main

import (
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/betterauth"
	"github.com/brokerly/accounts/ports"
)

// sessionSecret is the secret Better Auth signs sessions with, chosen as Better Auth
// chooses it: the first entry of BETTER_AUTH_SECRETS when that is set (BETTER_AUTH_SECRET
// then only decrypts Better Auth's older payloads and signs nothing), otherwise
// BETTER_AUTH_SECRET (docs/better-auth.md, "The secret"). source says which, for the log;
// errors name the variable, never a secret.
func sessionSecret(cfg Config) (secret, source string, err error) {
	if cfg.AuthSecrets != "" {
		list, err := betterauth.ParseSecretList(cfg.AuthSecrets)
		if err != nil {
			return "", "", fmt.Errorf("BETTER_AUTH_SECRETS: %w", err)
		}
		version, secret := list.Current()
		return secret, "BETTER_AUTH_SECRETS version " + strconv.Itoa(version), nil
	}
	if err := betterauth.ValidateSecret(cfg.AuthSecret); err != nil {
		return "", "", fmt.Errorf("BETTER_AUTH_SECRET: %w", err)
	}
	return cfg.AuthSecret, "BETTER_AUTH_SECRET", nil
}

// newVerifier checks session signatures with the secret Better Auth signs them with.
func newVerifier(cfg Config, log *zap.Logger) (ports.SessionVerifier, error) {
	secret, source, err := sessionSecret(cfg)
	if err != nil {
		return nil, err
	}
	v, err := betterauth.NewVerifier(secret)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	fields := []zap.Field{zap.String("secret_from", source)}
	if cfg.AuthSecrets != "" && cfg.AuthSecret != "" {
		fields = append(fields, zap.String("not_used", "BETTER_AUTH_SECRET (Better Auth signs with BETTER_AUTH_SECRETS when both are set)"))
	}
	log.Info("verifying session signatures", fields...)
	return v, nil
}

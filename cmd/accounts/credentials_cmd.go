package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/brokerly/accounts/adapters/aesgcm"
	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/app/command"
	"go.uber.org/zap"
)

// credentialsCommand runs `accounts credentials <rotate|generate-key>`.
func credentialsCommand(ctx context.Context, args []string, cfg Config, log *zap.Logger, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "generate-key":
		fs := flag.NewFlagSet("generate-key", flag.ContinueOnError)
		fs.SetOutput(stderr)
		id := fs.String("id", "", "key id, e.g. 2026-11 (letters, digits, - and _)")
		if err := fs.Parse(args[1:]); err != nil || *id == "" {
			fmt.Fprintln(stderr, "usage: accounts credentials generate-key --id <key-id>")
			return 2
		}
		spec, err := aesgcm.GenerateKeySpec(*id)
		if err != nil {
			fmt.Fprintf(stderr, "accounts: %v\n", err)
			return 2
		}
		fmt.Fprintln(stdout, spec)
		return 0
	case "rotate":
		fs := flag.NewFlagSet("rotate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		batch := fs.Int("batch", 100, "rows re-sealed per batch")
		if err := fs.Parse(args[1:]); err != nil || *batch < 1 {
			return 2
		}
		return rotateKeys(ctx, cfg, *batch, log)
	default:
		fmt.Fprintf(stderr, "accounts: unknown credentials command %q\n\n%s", args[0], usage)
		return 2
	}
}

// rotateKeys re-seals every stored secret under the first key of CREDENTIAL_KEYS. Rows
// that cannot be opened are reported by id and make the exit code non-zero.
func rotateKeys(ctx context.Context, cfg Config, batch int, log *zap.Logger) int {
	cipher, err := newCipher(cfg)
	if err != nil {
		log.Error("cannot rotate", zap.Error(err))
		return 2
	}
	db, err := postgres.Open(ctx, postgresConfig(cfg))
	if err != nil {
		log.Error("cannot rotate", zap.Error(err))
		return 1
	}
	defer db.Close()
	// The rotation store, like every transaction on the service's tables, waits for the
	// row-level security audit: rotation refuses a database the service would refuse.
	if _, err := db.Audit(ctx); err != nil {
		log.Error("cannot rotate", zap.Error(err))
		return 1
	}

	rotate := command.NewRotateCredentialKeysHandler(postgres.NewRotationStore(db), cipher)
	report, err := rotate.Handle(ctx, command.RotateCredentialKeys{BatchSize: batch})
	fields := []zap.Field{zap.String("primary_key_id", cipher.PrimaryKeyID()), zap.Int("resealed", report.Resealed),
		zap.Int("skipped", report.Skipped), zap.Int("failed", len(report.Failed))}
	if err != nil {
		log.Error("rotation interrupted; run it again to continue", append(fields, zap.Error(err))...)
		return 1
	}
	for _, id := range report.Failed {
		log.Error("credential cannot be decrypted with any configured key", zap.String("credential_id", id.String()))
	}
	if len(report.Failed) > 0 {
		log.Error("rotation finished with failures", fields...)
		return 1
	}
	log.Info("rotation finished", fields...)
	return 0
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/brokerly/accounts/adapters/aesgcm"
	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/ports"
	"go.uber.org/zap"
)

// credentialsCommand runs `accounts credentials <rotate|keys|generate-key>`.
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
		progress := fs.String("progress", string(progressAuto), "auto (a progress line when stderr is a terminal), always or never")
		if err := fs.Parse(args[1:]); err != nil || *batch < 1 {
			return 2
		}
		mode, ok := parseProgressMode(*progress)
		if !ok {
			fmt.Fprintln(stderr, "accounts: --progress must be auto, always or never")
			return 2
		}
		return rotateKeys(ctx, cfg, *batch, mode.live(stderr), log, stderr)
	case "keys":
		fs := flag.NewFlagSet("keys", flag.ContinueOnError)
		fs.SetOutput(stderr)
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
			fmt.Fprintln(stderr, "usage: accounts credentials keys")
			return 2
		}
		return listKeys(ctx, cfg, log, stdout)
	default:
		fmt.Fprintf(stderr, "accounts: unknown credentials command %q\n\n%s", args[0], usage)
		return 2
	}
}

// rotateKeys re-seals every stored secret under the first key of CREDENTIAL_KEYS, showing
// its progress on stderr (redrawn in place when live) and one summary line at the end.
// Rows that cannot be opened are reported by id and make the exit code non-zero.
func rotateKeys(ctx context.Context, cfg Config, batch int, live bool, log *zap.Logger, stderr io.Writer) int {
	cipher, err := newCipher(cfg)
	if err != nil {
		log.Error("cannot rotate", zap.Error(err))
		return 2
	}
	db, code := openAudited(ctx, cfg, log, "cannot rotate")
	if db == nil {
		return code
	}
	defer db.Close()

	// The run id is the request id of every event the run records, so a credential's trail
	// names the run that re-sealed it.
	runID := newRunID()
	log = log.With(zap.String("run_id", runID), zap.String("primary_key_id", cipher.PrimaryKeyID()))
	progress := newRotationProgress(stderr, runID, live, time.Now)
	rotate := command.NewRotateCredentialKeysHandler(postgres.NewRotationStore(db), cipher)
	report, err := rotate.Handle(ports.WithRequestID(ctx, runID), command.RotateCredentialKeys{BatchSize: batch, Progress: progress.update})
	progress.finish(report, err != nil)
	for _, id := range report.Failed {
		log.Error("credential cannot be decrypted with any enabled key", zap.String("credential_id", id.String()))
	}
	if err != nil {
		log.Error("rotation interrupted; run it again to continue", zap.Error(err))
		return 1
	}
	if len(report.Failed) > 0 {
		return 1
	}
	return 0
}

// newRunID is "rotate-" and 16 random hex digits.
func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return "rotate-" + hex.EncodeToString(b)
}

// openAudited opens the database and runs the row-level security audit, which the
// rotation store, like every transaction on the service's tables, waits for: the commands
// refuse a database the service would refuse. On failure it logs why and returns nil and
// the exit code.
func openAudited(ctx context.Context, cfg Config, log *zap.Logger, msg string) (*postgres.DB, int) {
	db, err := postgres.Open(ctx, postgresConfig(cfg))
	if err != nil {
		log.Error(msg, zap.Error(err))
		return nil, 1
	}
	if _, err := db.Audit(ctx); err != nil {
		log.Error(msg, zap.Error(err))
		_ = db.Close()
		return nil, 1
	}
	return db, 0
}

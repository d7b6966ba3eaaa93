// Command accounts is the accounts service: `accounts serve` runs the HTTP API and
// `accounts migrate` creates the database if needed and applies the embedded migrations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

const usage = `usage: accounts <command>

commands:
  serve [--migrate]   run the HTTP API (--migrate: create the database and apply migrations first)
  migrate             create the database if it is missing and apply the embedded migrations
  credentials rotate [--batch N] [--progress auto|always|never]
                      re-seal every stored API key and secret under the first CREDENTIAL_KEYS key
  credentials keys    list each CREDENTIAL_KEYS key's state and the stored values it seals,
                      and the key ids stored values name that are not configured
  credentials generate-key --id ID
                      print a new CREDENTIAL_KEYS entry (ID:base64 of 32 random bytes)
  dev-session --email ADDRESS [--json]
                      development only (ACCOUNTS_DEV=1): sign a user in as Better Auth would and
                      print the cookie, the bearer header and curl lines for every endpoint

Configuration comes from environment variables; see the README.
`

func main() {
	tuneGC(osGetenv)
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run returns the process exit code; it is main without the os.Exit, for tests.
func run(args []string, getenv Environment, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if text, ok := helpFor(args); ok {
		fmt.Fprint(stdout, text)
		return 0
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "accounts: invalid configuration:\n%v\n", err)
		return 2
	}
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		fmt.Fprintf(stderr, "accounts: logger: %v\n", err)
		return 1
	}
	defer func() { _ = log.Sync() }()

	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		migrate := fs.Bool("migrate", false, "create the database if missing and apply migrations before serving")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if err := cfg.checkServe(); err != nil {
			fmt.Fprintf(stderr, "accounts: invalid configuration:\n%v\n", err)
			return 2
		}
		return serve(cfg, *migrate, log)
	case "migrate":
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := migrateDatabase(ctx, cfg, log); err != nil {
			log.Error("migration failed", zap.Error(err))
			return 1
		}
		return 0
	case "credentials":
		ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer cancel()
		return credentialsCommand(ctx, args[1:], cfg, log, stdout, stderr)
	case "dev-session":
		dev, _ := getenv("ACCOUNTS_DEV")
		return devSessionCommand(context.Background(), args[1:], cfg, dev == "1", stdout, stderr)
	default:
		fmt.Fprintf(stderr, "accounts: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// serve runs until SIGINT or SIGTERM, then drains: in-flight requests finish before the
// database pool closes (fx stops hooks in reverse order of start).
func serve(cfg Config, migrate bool, log *zap.Logger) int {
	application := fx.New(Options(cfg, log, migrate))

	startCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := application.Start(startCtx); err != nil {
		log.Error("service failed to start", zap.Error(err))
		return 1
	}
	stop := <-application.Wait()
	reason := "shutdown requested"
	if stop.Signal != nil {
		reason = stop.Signal.String()
	}
	log.Info("shutting down", zap.String("signal", reason), zap.Int("exit_code", stop.ExitCode))

	stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.ShutdownDrain+cfg.ShutdownTimeout+5*time.Second)
	defer cancelStop()
	if err := application.Stop(stopCtx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("unclean shutdown", zap.Error(err))
		return 1
	}
	return stop.ExitCode
}

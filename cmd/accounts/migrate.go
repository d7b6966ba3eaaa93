package main

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/adapters/postgres"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// migrateDatabase creates the configured database when it is missing, then applies the
// embedded migrations; both steps are safe to run from several processes at once.
func migrateDatabase(ctx context.Context, cfg Config, log *zap.Logger) error {
	if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("ensure database: %w", err)
	}
	db, err := postgres.Open(ctx, postgresConfig(cfg))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	return applyMigrations(ctx, db, log)
}

func applyMigrations(ctx context.Context, db *postgres.DB, log *zap.Logger) error {
	if err := postgres.Migrate(ctx, db, log.Named("migrate")); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// registerMigrateOnStart adds a start hook that migrates before anything serves; Options
// registers it ahead of the HTTP server, and fx runs start hooks in registration order.
func registerMigrateOnStart(lc fx.Lifecycle, cfg Config, db *postgres.DB, log *zap.Logger) {
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
			return fmt.Errorf("ensure database: %w", err)
		}
		return applyMigrations(ctx, db, log)
	}})
}

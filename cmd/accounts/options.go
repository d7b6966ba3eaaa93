package main

import (
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options is the whole service as one fx option; the end-to-end test runs the same wiring
// through the real binary.
func Options(cfg Config, log *zap.Logger, migrate bool) fx.Option {
	opts := []fx.Option{
		fx.Supply(cfg, log),
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.ZapLogger{Logger: log.Named("fx")}
			l.UseLogLevel(zapcore.DebugLevel) // wiring details are noise at info
			return l
		}),
		postgresModule,
		authModule,
		cipherModule,
		brokerModule,
		metricsModule,
		countedPorts,
		appModule,
		httpModule,
	}
	if migrate {
		opts = append(opts, fx.Invoke(registerMigrateOnStart))
	}
	// After the migrations, before the server: the row-level security audit (audit.go).
	opts = append(opts, fx.Invoke(registerAudit))
	// Last, so that the server listens only once everything before it has started.
	opts = append(opts, fx.Invoke(startHTTPServer))
	return fx.Options(opts...)
}

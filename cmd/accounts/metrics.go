package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/metrics"
	"github.com/brokerly/accounts/adapters/postgres"
)

// metricsModule counts what the service does and serves it on METRICS_ADDR, a listener
// apart from the public one; an empty METRICS_ADDR turns metrics off, and then nothing is
// counted at all (*metrics.Metrics is nil).
var metricsModule = fx.Module("metrics",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("metrics") }),
	fx.Provide(newMetrics),
	fx.Invoke(startMetricsServer),
)

// countedPorts wraps the cipher and the broker, wherever they are used, so every seal,
// open and broker call is counted; with metrics off they stay as they are.
var countedPorts = fx.Options(
	fx.Decorate((*metrics.Metrics).Cipher),
	fx.Decorate((*metrics.Metrics).Broker),
)

func newMetrics(cfg Config, db *postgres.DB) *metrics.Metrics {
	if cfg.MetricsAddr == "" {
		return nil
	}
	m := metrics.New()
	m.Pool(func() metrics.PoolStats { return metrics.PoolStats(db.PoolStats()) })
	return m
}

// startMetricsServer listens in OnStart (a taken port fails the start) and stops with the
// process. Only /metrics is served there.
func startMetricsServer(lc fx.Lifecycle, cfg Config, m *metrics.Metrics, log *zap.Logger) {
	if m == nil {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.MetricsAddr)
			if err != nil {
				return err
			}
			log.Info("metrics listening", zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("metrics server stopped; the service goes on without it", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error { return srv.Shutdown(ctx) },
	})
}

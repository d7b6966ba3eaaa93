package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/brokerly/accounts/adapters/alpaca"
	"github.com/brokerly/accounts/adapters/betterauth"
	httpadapter "github.com/brokerly/accounts/adapters/http"
	"github.com/brokerly/accounts/adapters/metrics"
	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/ratelimit"
	"github.com/brokerly/accounts/app"
	"github.com/brokerly/accounts/ports"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Each module binds one adapter to the ports it implements. The adapters themselves know
// nothing of fx: their plain constructors are what tests use.

var postgresModule = fx.Module("postgres",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("postgres") }),
	fx.Provide(
		openDatabase,
		fx.Annotate(postgres.NewSessionRepo, fx.As(new(ports.Sessions))),
		fx.Annotate(postgres.NewAccountRepo, fx.As(new(ports.AccountRepository))),
		fx.Annotate(postgres.NewCredentialRepo, fx.As(new(ports.CredentialRepository))),
		fx.Annotate(postgres.NewCredentialTrail, fx.As(new(ports.CredentialTrail))),
	),
)

var authModule = fx.Module("betterauth",
	fx.Provide(newVerifier),
)

// cipherModule refuses to start without a valid CREDENTIAL_KEYS: a service that cannot
// seal or open secrets must not accept them.
var cipherModule = fx.Module("aesgcm",
	fx.Provide(func(cfg Config, log *zap.Logger) (ports.Cipher, error) {
		c, err := newCipher(cfg)
		if err != nil {
			return nil, err
		}
		log.Info("credential keys loaded", zap.String("primary_key_id", c.PrimaryKeyID()))
		return c, nil
	}),
)

var brokerModule = fx.Module("alpaca",
	fx.Provide(func(cfg Config) (ports.Broker, error) {
		c, err := alpaca.New(alpaca.Config{PaperURL: cfg.AlpacaPaperURL, LiveURL: cfg.AlpacaLiveURL, Timeout: cfg.BrokerTimeout}, nil)
		if err != nil {
			return nil, fmt.Errorf("ALPACA_PAPER_URL/ALPACA_LIVE_URL: %w", err)
		}
		return c, nil
	}),
	// Every call to the broker is paid from its user's budget, so one user cannot spend
	// the service's quota with Alpaca.
	fx.Provide(func(cfg Config) (ports.BrokerBudget, error) {
		b, err := ratelimit.NewBrokerBudget(ratelimit.Config{CallsPerMinute: cfg.BrokerRatePerMinute, Burst: cfg.BrokerBurst}, ports.SystemClock{})
		if err != nil {
			return nil, fmt.Errorf("BROKER_RATE_PER_MINUTE/BROKER_BURST: %w", err)
		}
		return b, nil
	}),
)

var appModule = fx.Module("app",
	fx.Provide(func(cfg Config, sessions ports.Sessions, accounts ports.AccountRepository, credentials ports.CredentialRepository,
		trail ports.CredentialTrail, cipher ports.Cipher, broker ports.Broker, budget ports.BrokerBudget) app.Application {
		return app.New(app.Deps{Sessions: sessions, Accounts: accounts, Credentials: credentials, Trail: trail, Cipher: cipher, Broker: broker,
			BrokerBudget: budget, Clock: ports.SystemClock{}, CredentialsPerAccount: cfg.CredentialsPerAccount})
	}),
)

var httpModule = fx.Module("http",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("http") }),
	fx.Provide(newHTTPServer),
	fx.Supply(listenFunc(net.Listen)),
)

// listenFunc opens the server's socket: net.Listen, or in tests a socket that fails.
type listenFunc func(network, address string) (net.Listener, error)

func postgresConfig(cfg Config) postgres.Config {
	return postgres.Config{URL: cfg.DatabaseURL, MaxOpenConns: cfg.DBMaxConns, AcquireTimeout: cfg.DBAcquireTimeout}
}

// openDatabase does not ping: the service starts while the database is down and reports
// it through /readyz and 503s until it comes back.
func openDatabase(lc fx.Lifecycle, cfg Config) (*postgres.DB, error) {
	db, err := postgres.Open(context.Background(), postgresConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	lc.Append(fx.Hook{OnStop: func(context.Context) error { return db.Close() }})
	return db, nil
}

// newHTTPServer's readiness is the database's: reachable, migrated, and audited (the audit
// runs at start, see audit.go).
func newHTTPServer(cfg Config, application app.Application, verifier ports.SessionVerifier, db *postgres.DB, m *metrics.Metrics, log *zap.Logger) *httpadapter.Server {
	var observer httpadapter.Observer
	if m != nil {
		observer = m
	}
	return httpadapter.NewServer(httpadapter.Config{
		AllowedOrigins:          cfg.AllowedOrigins,
		SessionCookieName:       betterauth.CookieName(cfg.CookiePrefix, cfg.SecureCookies),
		RequestTimeout:          cfg.RequestTimeout,
		AuthFailureRate:         cfg.AuthFailureRate,
		AuthFailureBurst:        cfg.AuthFailureBurst,
		DisableAuthFailureLimit: cfg.AuthFailureRate == 0,
		MaxConns:                cfg.HTTPMaxConns,
		MaxConnsPerIP:           cfg.HTTPMaxConnsPerIP,
		DisableAccessLog:        !cfg.AccessLog,
		Observer:                observer,
	}, application, verifier, db.Ready, log)
}

// startHTTPServer listens in OnStart, so a taken port fails the start, and drains in OnStop:
// /readyz turns 503 at once, the server keeps serving through the drain period (while load
// balancers notice), then stops accepting connections and waits up to SHUTDOWN_TIMEOUT for
// in-flight requests. Its hook is appended after openDatabase's (the server depends on the
// pool), and fx stops in reverse order, so the pool closes only after this returns.
//
// A server that stops serving on its own can never answer again, so it shuts the whole
// process down, with exit code 1: a process that stays up deaf is never restarted.
func startHTTPServer(lc fx.Lifecycle, cfg Config, srv *httpadapter.Server, listen listenFunc, shutdown fx.Shutdowner, log *zap.Logger) {
	failed := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := listen("tcp", cfg.HTTPAddr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
			}
			log.Info("listening", zap.String("addr", ln.Addr().String()),
				zap.Int("max_conns", cfg.HTTPMaxConns), zap.Int("max_conns_per_ip", cfg.HTTPMaxConnsPerIP))
			go func() {
				if err := srv.Serve(ln); err != nil {
					log.Error("http server stopped serving; shutting down", zap.Error(err))
					close(failed)
					_ = shutdown.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			srv.BeginDrain()
			select {
			case <-failed: // nothing to drain: no one is being served
			default:
				waitDrainPeriod(ctx, cfg.ShutdownDrain, log)
			}
			stopCtx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			return srv.Shutdown(stopCtx)
		},
	})
}

// waitDrainPeriod keeps the server serving, not ready, for SHUTDOWN_DRAIN_PERIOD.
func waitDrainPeriod(ctx context.Context, period time.Duration, log *zap.Logger) {
	if period <= 0 {
		return
	}
	log.Info("draining", zap.Duration("period", period))
	timer := time.NewTimer(period)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/brokerly/accounts/adapters/alpaca"
)

// checkServe refuses the configuration `serve` must not run with, before anything starts:
// one line per problem, naming the variable and never a secret's value. (Found later,
// inside fx, the same problems would come wrapped in the framework's errors, with source
// paths.) The adapters check the same things again when they are built.
func (c Config) checkServe() error {
	var errs []error
	if _, _, err := sessionSecret(c); err != nil {
		errs = append(errs, err) // named BETTER_AUTH_SECRET or BETTER_AUTH_SECRETS already
	}
	if _, err := newCipher(c); err != nil {
		errs = append(errs, err) // named CREDENTIAL_KEYS already
	}
	errs = append(errs,
		checkBrokerURL("ALPACA_PAPER_URL", c.AlpacaPaperURL, func(u string) alpaca.Config { return alpaca.Config{PaperURL: u} }),
		checkBrokerURL("ALPACA_LIVE_URL", c.AlpacaLiveURL, func(u string) alpaca.Config { return alpaca.Config{LiveURL: u} }),
		c.checkConnectionBounds(),
	)
	// Both waits happen inside a request, under its deadline: one as long as the deadline is
	// cut by it, and reported as a timeout of its own that did not happen.
	if c.DBAcquireTimeout >= c.RequestTimeout {
		errs = append(errs, fmt.Errorf("DB_ACQUIRE_TIMEOUT (%s) must be below REQUEST_TIMEOUT (%s): a request that waited that long for a database connection would have no time left to use it",
			c.DBAcquireTimeout, c.RequestTimeout))
	}
	if c.BrokerTimeout >= c.RequestTimeout {
		errs = append(errs, fmt.Errorf("BROKER_TIMEOUT (%s) must be below REQUEST_TIMEOUT (%s): every request that calls Alpaca runs under REQUEST_TIMEOUT, which would cut the call first",
			c.BrokerTimeout, c.RequestTimeout))
	}
	if err := checkMetricsAddr(c.MetricsAddr, c.HTTPAddr); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkMetricsAddr keeps metrics off the public listener: a scrape tells how the service
// is doing, which is the operator's business, not every client's.
func checkMetricsAddr(metrics, public string) error {
	if metrics == "" {
		return nil
	}
	mHost, mPort, err := net.SplitHostPort(metrics)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR must be host:port (or empty to turn metrics off)")
	}
	if pHost, pPort, err := net.SplitHostPort(public); err == nil && mPort == pPort && mPort != "0" &&
		(mHost == pHost || isWildcardHost(mHost) || isWildcardHost(pHost)) {
		return fmt.Errorf("METRICS_ADDR must not be HTTP_ADDR's port: metrics are never served on the public listener")
	}
	return nil
}

// checkBrokerURL allows plain http only to a loopback host (a local stand-in for Alpaca):
// anywhere else the broker keys, sent with every call, would cross the network in clear
// text. The URL itself is never printed (it may carry userinfo).
func checkBrokerURL(name, raw string, config func(string) alpaca.Config) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("%s is not a URL", name)
	}
	if !strings.EqualFold(u.Scheme, "https") && !(strings.EqualFold(u.Scheme, "http") && isLoopbackHost(u.Hostname())) {
		return fmt.Errorf("%s must be an https URL (plain http is allowed only to a loopback host such as 127.0.0.1)", name)
	}
	if _, err := alpaca.New(config(raw), nil); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// isWildcardHost is a listen address's host that means every interface.
func isWildcardHost(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::"
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The bounds on open HTTP connections (docs/api.md, Connections). By default the overall
// bound is what the open-file limit leaves once everything else the process opens has its
// share, so that a flood of connections can never take the descriptors the database pool
// and the broker need, and the service keeps answering once the flood ends.
const (
	// fdReserve is what the process may need besides HTTP connections and the pool: the
	// broker's connections (at most 64 per Alpaca host), standard streams, the listener,
	// the poller, and slack.
	fdReserve = 128
	// minMaxConns is the least a derived bound may be; below it the limit is too low to run.
	minMaxConns = 16
	// defaultMaxConnsPerIP, or a quarter of the overall bound when that is less, so that a
	// handful of clients can never hold every connection.
	defaultMaxConnsPerIP = 1024
)

// openFileLimit is RLIMIT_NOFILE as the process runs with it (Go raises the soft limit to
// the hard one at start); 0 when unknown. A variable, so tests can pretend another limit.
var openFileLimit = processOpenFileLimit

// loadConnectionBounds reads HTTP_MAX_CONNS and HTTP_MAX_CONNS_PER_IP; DBMaxConns must be
// read already.
func (c *Config) loadConnectionBounds(maxConns, perIP string) []error {
	var errs []error
	c.OpenFileLimit = openFileLimit()
	if maxConns = strings.TrimSpace(maxConns); maxConns == "" {
		c.HTTPMaxConnsAuto = true
		c.HTTPMaxConns = derivedMaxConns(c.OpenFileLimit, c.DBMaxConns)
	} else if n, err := strconv.Atoi(maxConns); err != nil || n < 0 {
		errs = append(errs, fmt.Errorf("HTTP_MAX_CONNS must be a non-negative integer (0 turns the bound off)"))
	} else {
		c.HTTPMaxConns = n
	}
	if perIP = strings.TrimSpace(perIP); perIP == "" {
		c.HTTPMaxConnsPerIP = defaultMaxConnsPerIP
		if c.HTTPMaxConns > 0 {
			c.HTTPMaxConnsPerIP = max(1, min(defaultMaxConnsPerIP, c.HTTPMaxConns/4))
		}
	} else if n, err := strconv.Atoi(perIP); err != nil || n < 0 {
		errs = append(errs, fmt.Errorf("HTTP_MAX_CONNS_PER_IP must be a non-negative integer (0 turns the bound off)"))
	} else {
		c.HTTPMaxConnsPerIP = n
	}
	return errs
}

// derivedMaxConns is the default overall bound: the open-file limit less the pool and
// fdReserve, or 10,000 when the limit is unknown.
func derivedMaxConns(limit uint64, dbMaxConns int) int {
	if limit == 0 {
		return 10_000
	}
	left := int64(min(limit, math.MaxInt32)) - fdReserve - int64(max(dbMaxConns, 0))
	return int(max(left, 0))
}

// checkConnectionBounds refuses a derived bound too low to serve with.
func (c Config) checkConnectionBounds() error {
	if c.HTTPMaxConnsAuto && c.HTTPMaxConns < minMaxConns {
		return fmt.Errorf("HTTP_MAX_CONNS: the open-file limit (%d) leaves fewer than %d connections after the database pool and %d other descriptors; raise it (ulimit -n) or set HTTP_MAX_CONNS",
			c.OpenFileLimit, minMaxConns, fdReserve)
	}
	return nil
}

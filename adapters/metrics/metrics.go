// Package metrics is the Prometheus adapter: it counts what the service does, on its own
// registry, for a listener apart from the public one. Every label has a small, fixed set of
// values — a route template, a status, an outcome — and never a user, token, account or
// credential id, so a scrape reveals nothing about any user and its size stays bounded.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "accounts"

// Latency buckets, in seconds: a request or a broker call from a millisecond to the
// request deadline.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics holds the service's collectors and the registry they are on.
type Metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	auth            *prometheus.CounterVec
	seals           *prometheus.CounterVec
	opens           *prometheus.CounterVec
	brokerCalls     *prometheus.CounterVec
	brokerDuration  *prometheus.HistogramVec
}

// New registers every collector, with Go's runtime and the process's own.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from a request's first byte to its answer, by method and route template.",
			Buckets: latencyBuckets,
		}, []string{"method", "route"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "auth", Name: "outcomes_total",
			Help: "Authentication outcomes: ok, no_credentials, bad_signature, unknown_session, expired, banned.",
		}, []string{"outcome"}),
		seals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "credentials", Name: "seals_total",
			Help: "Broker secrets sealed, by outcome (ok, error).",
		}, []string{"outcome"}),
		opens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "credentials", Name: "opens_total",
			Help: "Sealed broker secrets opened, by outcome (ok, undecryptable, error).",
		}, []string{"outcome"}),
		brokerCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "broker", Name: "calls_total",
			Help: "Calls to the broker, by outcome (ok, rejected, rate_limited, failed).",
		}, []string{"outcome"}),
		brokerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "broker", Name: "call_duration_seconds",
			Help:    "Time a broker call took, by outcome.",
			Buckets: latencyBuckets,
		}, []string{"outcome"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.auth, m.seals, m.opens, m.brokerCalls, m.brokerDuration,
	)
	return m
}

// Handler serves the registry in Prometheus's text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Request counts one answered request (the HTTP adapter's Observer).
func (m *Metrics) Request(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, statusLabel(status)).Inc()
	m.requestDuration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// Authentication counts one authentication outcome (the HTTP adapter's Observer).
func (m *Metrics) Authentication(outcome string) {
	m.auth.WithLabelValues(outcome).Inc()
}

// statusLabel spares a strconv allocation for the statuses the service answers with.
func statusLabel(status int) string {
	if status >= 100 && status < 600 {
		if s := statusLabels[status]; s != "" {
			return s
		}
	}
	return strconv.Itoa(status)
}

var statusLabels = func() (out [600]string) {
	for code := 100; code < 600; code++ {
		if http.StatusText(code) != "" {
			out[code] = strconv.Itoa(code)
		}
	}
	return out
}()

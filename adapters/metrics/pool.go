package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is a snapshot of the database connection pool, field for field the postgres
// adapter's (so that one converts to the other).
type PoolStats struct {
	Max, InUse, Idle, Constructing int
	// Acquires counts every connection handed out; Waits those that had to wait for one,
	// and WaitTime how long they waited in all; Canceled those given up while waiting.
	Acquires, Waits, Canceled int64
	WaitTime                  time.Duration
}

// Pool reports the connection pool, read at each scrape from stats.
func (m *Metrics) Pool(stats func() PoolStats) {
	m.registry.MustRegister(poolCollector{stats: stats})
}

var (
	poolConns = prometheus.NewDesc(namespace+"_db_pool_connections",
		"Pooled database connections, by state (acquired, idle, constructing).", []string{"state"}, nil)
	poolMax = prometheus.NewDesc(namespace+"_db_pool_max_connections",
		"The pool's bound on connections (DB_MAX_CONNS).", nil, nil)
	poolAcquires = prometheus.NewDesc(namespace+"_db_pool_acquires_total",
		"Connections handed out by the pool.", nil, nil)
	poolWaits = prometheus.NewDesc(namespace+"_db_pool_acquire_waits_total",
		"Acquires that found no idle connection and had to wait.", nil, nil)
	poolWaitTime = prometheus.NewDesc(namespace+"_db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a connection, in all.", nil, nil)
	poolCanceled = prometheus.NewDesc(namespace+"_db_pool_acquire_canceled_total",
		"Acquires given up while waiting (deadline or cancellation).", nil, nil)
)

type poolCollector struct{ stats func() PoolStats }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcquires, poolWaits, poolWaitTime, poolCanceled} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.InUse), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.Constructing), "constructing")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.Max))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.Acquires))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.Waits))
	ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.WaitTime.Seconds())
	ch <- prometheus.MustNewConstMetric(poolCanceled, prometheus.CounterValue, float64(s.Canceled))
}

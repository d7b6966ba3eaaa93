package alpaca

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryAfterReadsAlpacasReset(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	reset := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	cases := map[string]struct {
		h    http.Header
		want time.Duration
	}{
		"reset in 37s":            {header("X-Ratelimit-Reset", reset(37*time.Second)), 37 * time.Second},
		"reset wins":              {header("X-Ratelimit-Reset", reset(5*time.Second), "Retry-After", "50"), 5 * time.Second},
		"reset passed":            {header("X-Ratelimit-Reset", reset(-time.Minute)), time.Second},
		"reset far off is capped": {header("X-Ratelimit-Reset", reset(time.Hour)), time.Minute},
		"retry-after":             {header("Retry-After", "12"), 12 * time.Second},
		"garbage":                 {header("X-Ratelimit-Reset", "soon", "Retry-After", "later"), time.Second},
		"nothing":                 {header(), time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, retryAfter(tc.h, now))
		})
	}
}

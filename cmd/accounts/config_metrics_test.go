package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMetricsAndAccessLogSettings(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(envOf(map[string]string{}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9404", cfg.MetricsAddr, "on by default, on loopback only")
	require.True(t, cfg.AccessLog)

	cfg, err = LoadConfig(envOf(map[string]string{"METRICS_ADDR": "", "ACCESS_LOG": "false"}))
	require.NoError(t, err)
	require.Empty(t, cfg.MetricsAddr, "set and empty: metrics off")
	require.False(t, cfg.AccessLog)

	cfg, err = LoadConfig(envOf(map[string]string{"METRICS_ADDR": " 10.0.0.5:9404 "}))
	require.NoError(t, err)
	require.Equal(t, "10.0.0.5:9404", cfg.MetricsAddr)

	_, err = LoadConfig(envOf(map[string]string{"ACCESS_LOG": "sometimes"}))
	require.ErrorContains(t, err, "ACCESS_LOG")
}

func TestMetricsNeverShareThePublicListener(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		metrics, public string
		ok              bool
	}{
		{"127.0.0.1:9404", ":9403", true},
		{"", ":9403", true},
		{"127.0.0.1:0", "127.0.0.1:0", true},
		{"127.0.0.1:9403", ":9403", false},
		{":9403", "127.0.0.1:9403", false},
		{"0.0.0.0:9403", "10.0.0.5:9403", false},
		{"[::]:9403", "127.0.0.1:9403", false},
		{"127.0.0.1:9403", "[::]:9403", false},
		{"10.0.0.5:9403", "10.0.0.6:9403", true},
		{"localhost", ":9403", false},
	} {
		err := checkMetricsAddr(tc.metrics, tc.public)
		if tc.ok {
			require.NoError(t, err, "%+v", tc)
		} else {
			require.ErrorContains(t, err, "METRICS_ADDR", "%+v", tc)
		}
	}
}

package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadConfigBrokerBudget(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(envOf(map[string]string{"BETTER_AUTH_SECRET": "s"}))
	require.NoError(t, err)
	require.Equal(t, 60, cfg.BrokerRatePerMinute, "a third of the 200 a minute Alpaca allows one account")
	require.Equal(t, 10, cfg.BrokerBurst)

	cfg, err = LoadConfig(envOf(map[string]string{"BROKER_RATE_PER_MINUTE": "120", "BROKER_BURST": "3"}))
	require.NoError(t, err)
	require.Equal(t, 120, cfg.BrokerRatePerMinute)
	require.Equal(t, 3, cfg.BrokerBurst)

	for _, bad := range []string{"0", "-1", "1.5", "many"} {
		_, err = LoadConfig(envOf(map[string]string{"BROKER_RATE_PER_MINUTE": bad, "BROKER_BURST": bad}))
		require.ErrorContains(t, err, "BROKER_RATE_PER_MINUTE", bad)
		require.ErrorContains(t, err, "BROKER_BURST", bad)
	}
}

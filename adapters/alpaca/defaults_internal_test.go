package alpaca

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewFillsDefaults(t *testing.T) {
	c, err := New(Config{}, nil)

	require.NoError(t, err)
	require.Equal(t, "https://paper-api.alpaca.markets/v2/account", c.paperURL)
	require.Equal(t, "https://api.alpaca.markets/v2/account", c.liveURL)
	require.Equal(t, 10*time.Second, c.timeout)
	require.Equal(t, 10*time.Second, c.hc.Timeout)
	require.NotNil(t, c.hc.CheckRedirect)
	tr, ok := c.hc.Transport.(*http.Transport)
	require.True(t, ok, "a dedicated transport, not the shared default")
	require.NotSame(t, http.DefaultTransport, c.hc.Transport)
	require.Positive(t, tr.MaxConnsPerHost)
	require.Positive(t, tr.ResponseHeaderTimeout)
}

func TestNewDoesNotChangeCallerClient(t *testing.T) {
	hc := &http.Client{}
	_, err := New(Config{}, hc)

	require.NoError(t, err)
	require.Nil(t, hc.CheckRedirect, "the caller's client is copied, not modified")
}

package alpaca_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/alpaca/alpacatest"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// The cases of docs/api.md "The broker": Alpaca's 429 passes on with its reset time, a 4xx
// is never asked again, a 5xx or a network failure is asked again once, and identical
// concurrent calls share one request.

func fakeAlpaca(t *testing.T) *alpacatest.Server {
	return alpacatest.NewServer(t, map[string]string{testKey: testSecret, "PKOTHER": "other-secret"})
}

func TestAccountPassesOnAlpacasRateLimitWithItsResetTime(t *testing.T) {
	t.Parallel()
	fake := fakeAlpaca(t)
	fake.RateLimit(1)
	c := newClient(t, fake.URL(), fake.URL(), 5*time.Second)
	key, secret := keys(t)

	_, err := c.Account(t.Context(), credential.Paper, key, secret)
	require.NoError(t, err)
	_, err = c.Account(t.Context(), credential.Paper, key, secret)

	require.ErrorIs(t, err, ports.ErrBrokerRateLimited)
	require.NotErrorIs(t, err, ports.ErrBrokerFailed)
	require.NotErrorIs(t, err, ports.ErrBrokerRejected)
	var busy *ports.BrokerBusyError
	require.ErrorAs(t, err, &busy)
	// The window opened at the first call and lasts a minute; whole seconds, so allow one.
	require.InDelta(t, time.Minute.Seconds(), busy.RetryAfter.Seconds(), 2)
	require.Equal(t, 2, fake.Calls(), "a 429 is not asked again")
	requireNoSecrets(t, err)
}

func TestAccountNeverRetriesA4xx(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 422, 429} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			fake := fakeAlpaca(t)
			fake.FailNext(status)
			key, secret := keys(t)

			_, err := newClient(t, fake.URL(), fake.URL(), 5*time.Second).Account(t.Context(), credential.Paper, key, secret)

			require.Error(t, err)
			require.Equal(t, 1, fake.Calls(), "the broker's verdict does not change by asking again")
		})
	}
}

func TestAccountRetriesA5xxOrANetworkFailureOnce(t *testing.T) {
	t.Parallel()
	for name, first := range map[string]int{"500": 500, "502": 502, "503": 503, "dropped connection": alpacatest.Drop} {
		t.Run(name+" then ok", func(t *testing.T) {
			t.Parallel()
			fake := fakeAlpaca(t)
			fake.FailNext(first)
			key, secret := keys(t)

			acct, err := newClient(t, fake.URL(), fake.URL(), 5*time.Second).Account(t.Context(), credential.Paper, key, secret)

			require.NoError(t, err)
			require.Equal(t, fake.Account(testKey).Status, acct.Status)
			require.Equal(t, 2, fake.Calls())
		})
	}
	t.Run("twice is the end", func(t *testing.T) {
		t.Parallel()
		fake := fakeAlpaca(t)
		fake.FailNext(502, 503)
		key, secret := keys(t)

		_, err := newClient(t, fake.URL(), fake.URL(), 5*time.Second).Account(t.Context(), credential.Paper, key, secret)

		require.ErrorIs(t, err, ports.ErrBrokerFailed)
		require.Contains(t, err.Error(), "503")
		require.Equal(t, 2, fake.Calls(), "at most one retry")
		requireNoSecrets(t, err)
	})
}

// A retry is made only if a whole attempt still fits in the call's bound.
func TestAccountDoesNotRetryPastItsBound(t *testing.T) {
	t.Parallel()
	t.Run("no room for a second attempt", func(t *testing.T) {
		t.Parallel()
		fake := fakeAlpaca(t)
		fake.FailNext(502)
		key, secret := keys(t)

		_, err := newClient(t, fake.URL(), fake.URL(), time.Second).Account(t.Context(), credential.Paper, key, secret)

		require.ErrorIs(t, err, ports.ErrBrokerFailed)
		require.Equal(t, 1, fake.Calls())
	})
	t.Run("a timeout spends the bound", func(t *testing.T) {
		t.Parallel()
		fake := fakeAlpaca(t)
		fake.Hang(time.Minute)
		key, secret := keys(t)

		start := time.Now()
		_, err := newClient(t, fake.URL(), fake.URL(), 1500*time.Millisecond).Account(t.Context(), credential.Paper, key, secret)

		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2500*time.Millisecond)
		require.Equal(t, 1, fake.Calls())
	})
}

func TestConcurrentIdenticalCallsShareOneRequest(t *testing.T) {
	t.Parallel()
	fake := fakeAlpaca(t)
	fake.Hang(300 * time.Millisecond)
	c := newClient(t, fake.URL(), fake.URL(), 5*time.Second)
	key, secret := keys(t)

	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.Account(t.Context(), credential.Paper, key, secret) })
	}
	wg.Go(func() { // another key pair is another request
		_, err := c.Account(t.Context(), credential.Paper, plain(t, "api_key", "PKOTHER"), plain(t, "secret_key", "other-secret"))
		require.NoError(t, err)
	})
	wg.Go(func() { // so is the same key in the other environment
		_, err := c.Account(t.Context(), credential.Live, key, secret)
		require.NoError(t, err)
	})
	wg.Wait()

	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 3, fake.Calls())

	_, err := c.Account(t.Context(), credential.Paper, key, secret)
	require.NoError(t, err)
	require.Equal(t, 4, fake.Calls(), "a finished call is not reused")
}

func TestASharedCallOutlivesACallerWhoLeaves(t *testing.T) {
	t.Parallel()
	fake := fakeAlpaca(t)
	fake.Hang(300 * time.Millisecond)
	c := newClient(t, fake.URL(), fake.URL(), 5*time.Second)
	key, secret := keys(t)
	leaving, leave := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, leave)

	var wg sync.WaitGroup
	var leftErr, stayedErr error
	wg.Go(func() { _, leftErr = c.Account(leaving, credential.Paper, key, secret) })
	wg.Go(func() { _, stayedErr = c.Account(t.Context(), credential.Paper, key, secret) })
	wg.Wait()

	require.ErrorIs(t, leftErr, context.Canceled)
	require.ErrorIs(t, leftErr, ports.ErrBrokerFailed)
	require.NoError(t, stayedErr)
	require.Equal(t, 1, fake.Calls())
}

func TestASharedCallEndsWhenEveryCallerLeaves(t *testing.T) {
	t.Parallel()
	abandoned := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-r.Context().Done():
			close(abandoned)
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, srv.URL, 10*time.Second)
	key, secret := keys(t)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			_, err := c.Account(ctx, credential.Paper, key, secret)
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
	wg.Wait()

	select {
	case <-abandoned:
	case <-time.After(2 * time.Second):
		t.Fatal("the request to Alpaca went on after every caller left")
	}
	require.EqualValues(t, 1, calls.Load())
	require.False(t, errors.Is(ctx.Err(), context.Canceled))
}

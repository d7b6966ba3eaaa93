package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// Cipher counts seals and opens by outcome; it changes nothing of what the cipher does.
// With metrics off (a nil *Metrics) it returns c itself.
func (m *Metrics) Cipher(c ports.Cipher) ports.Cipher {
	if m == nil {
		return c
	}
	return countingCipher{Cipher: c, m: m}
}

type countingCipher struct {
	ports.Cipher
	m *Metrics
}

func (c countingCipher) Seal(p credential.Plaintext, b ports.Binding) (credential.Sealed, error) {
	s, err := c.Cipher.Seal(p, b)
	c.m.seals.WithLabelValues(outcome(err)).Inc()
	return s, err
}

func (c countingCipher) Open(s credential.Sealed, b ports.Binding) (credential.Plaintext, error) {
	p, err := c.Cipher.Open(s, b)
	c.m.opens.WithLabelValues(outcome(err)).Inc()
	return p, err
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ports.ErrUndecryptable):
		return "undecryptable"
	}
	return "error"
}

// Broker counts broker calls by outcome and times them. With metrics off (a nil *Metrics)
// it returns b itself.
func (m *Metrics) Broker(b ports.Broker) ports.Broker {
	if m == nil {
		return b
	}
	return countingBroker{Broker: b, m: m}
}

type countingBroker struct {
	ports.Broker
	m *Metrics
}

func (b countingBroker) Account(ctx context.Context, env credential.Environment, apiKey, secretKey credential.Plaintext) (ports.BrokerAccount, error) {
	start := time.Now()
	acct, err := b.Broker.Account(ctx, env, apiKey, secretKey)
	o := brokerOutcome(err)
	b.m.brokerCalls.WithLabelValues(o).Inc()
	b.m.brokerDuration.WithLabelValues(o).Observe(time.Since(start).Seconds())
	return acct, err
}

func brokerOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ports.ErrBrokerRejected):
		return "rejected"
	case errors.Is(err, ports.ErrBrokerRateLimited):
		return "rate_limited"
	}
	return "failed"
}

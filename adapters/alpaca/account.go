package alpaca

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/brokerly/accounts/ports"
)

// errMalformed is what an unreadable 200 becomes. Its messages name a field at most, never
// a value: the body is the user's financial data and the json errors may quote it.
var errMalformed = errors.New("malformed account JSON")

// accountJSON is the part of Alpaca's account object the service uses; other fields are
// ignored. Money and the count stay raw so each can be checked under its own name.
type accountJSON struct {
	Status           *string         `json:"status"`
	Currency         *string         `json:"currency"`
	Cash             json.RawMessage `json:"cash"`
	Equity           json.RawMessage `json:"equity"`
	BuyingPower      json.RawMessage `json:"buying_power"`
	TradingBlocked   bool            `json:"trading_blocked"`
	AccountBlocked   bool            `json:"account_blocked"`
	PatternDayTrader bool            `json:"pattern_day_trader"`
	DaytradeCount    json.RawMessage `json:"daytrade_count"`
}

func decodeAccount(body []byte) (ports.BrokerAccount, error) {
	var a accountJSON
	if err := json.Unmarshal(body, &a); err != nil {
		return ports.BrokerAccount{}, errMalformed
	}
	if a.Status == nil || *a.Status == "" {
		return ports.BrokerAccount{}, malformed("status", "is missing")
	}
	if a.Currency == nil || *a.Currency == "" {
		return ports.BrokerAccount{}, malformed("currency", "is missing")
	}
	acct := ports.BrokerAccount{
		Status:           *a.Status,
		Currency:         *a.Currency,
		TradingBlocked:   a.TradingBlocked,
		AccountBlocked:   a.AccountBlocked,
		PatternDayTrader: a.PatternDayTrader,
	}
	var err error
	if acct.Cash, err = money("cash", a.Cash); err != nil {
		return ports.BrokerAccount{}, err
	}
	if acct.Equity, err = money("equity", a.Equity); err != nil {
		return ports.BrokerAccount{}, err
	}
	if acct.BuyingPower, err = money("buying_power", a.BuyingPower); err != nil {
		return ports.BrokerAccount{}, err
	}
	if acct.DaytradeCount, err = count("daytrade_count", a.DaytradeCount); err != nil {
		return ports.BrokerAccount{}, err
	}
	return acct, nil
}

func malformed(field, problem string) error {
	return fmt.Errorf("%w: %s %s", errMalformed, field, problem)
}

// money returns the exact text Alpaca sent for an amount. Alpaca sends decimal strings; a
// bare JSON number is accepted too and kept as its literal, so no float ever rounds it.
func money(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", malformed(field, "is missing")
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !isDecimal(s) {
			return "", malformed(field, "is not a decimal string")
		}
		return s, nil
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		return string(raw), nil // already a valid JSON number: the decoder checked it
	}
	return "", malformed(field, "is not a decimal")
}

// isDecimal accepts what Alpaca writes: an optional minus, digits, an optional fraction.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	return allDigits(whole) && (!hasFrac || allDigits(frac))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// count reads daytrade_count: a JSON number per Alpaca's docs, a numeric string tolerated,
// absent or null meaning 0.
func count(field string, raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, malformed(field, "is not a count")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, malformed(field, "is not a count")
	}
	return n, nil
}

package domain_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
)

// Labels that would show as something other than what they hold are refused: every
// format character (Unicode category Cf), wherever it stands, even where trimming
// would otherwise leave a valid label.
func TestParseLabel_RefusesFormatCharacters(t *testing.T) {
	refused := map[string]string{
		"right-to-left override":   "\u202egnp.exe",
		"left-to-right override":   "a\u202db",
		"pop directional":          "a\u202cb",
		"right-to-left isolate":    "a\u2067b\u2069",
		"left-to-right mark":       "a\u200eb",
		"arabic letter mark":       "a\u061cb",
		"zero-width space":         "ad\u200bmin",
		"zero-width joiner":        "a\u200db",
		"zero-width non-joiner":    "a\u200cb",
		"word joiner":              "a\u2060b",
		"byte-order mark leading":  "\ufeffMain",
		"byte-order mark trailing": "Main\ufeff",
		"only a byte-order mark":   "\ufeff",
		"soft hyphen":              "ad\u00admin",
		"tag character":            "a\U000e0041b",
		"interlinear annotation":   "a\ufff9b",
	}
	for name, in := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := domain.ParseLabel("nickname", in, 255)
			var verr *domain.ValidationError
			require.ErrorAs(t, err, &verr)
			require.Equal(t, "nickname", verr.Field)
			require.Equal(t, "must not contain invisible formatting characters", verr.Message)
		})
	}
}

func TestParseLabel_AcceptsOrdinaryText(t *testing.T) {
	for _, in := range []string{"Main", "Compte épargne", "口座", "حساب", "📈 gains", "a\ufffdb", "x—y"} {
		got, err := domain.ParseLabel("account_name", " "+in+" ", 255)
		require.NoError(t, err, "%q", in)
		require.Equal(t, in, got)
	}
}

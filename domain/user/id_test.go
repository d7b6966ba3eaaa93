package user_test

import (
	"strings"
	"testing"

	"github.com/brokerly/accounts/domain/user"
	"github.com/stretchr/testify/require"
)

func TestParseID(t *testing.T) {
	id, err := user.ParseID("XrjMbCRJZvhPkyh8AW8ixwkfOIf80SoV")
	require.NoError(t, err)
	require.Equal(t, "XrjMbCRJZvhPkyh8AW8ixwkfOIf80SoV", id.String())
	require.False(t, id.IsZero())

	for _, bad := range []string{"", " ", "with space", "tab\t", strings.Repeat("a", 256), "nl\n"} {
		_, err := user.ParseID(bad)
		require.Error(t, err, "%q", bad)
	}
	require.True(t, user.ID{}.IsZero())
}

package mockserver

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// uuidText writes each id as uuid.UUID.String does.
func TestUUIDText(t *testing.T) {
	ids, err := newUUIDs(50)
	require.NoError(t, err)
	ids = append(ids, uuid.UUID{}, uuid.Max)
	want := make([]string, len(ids))
	for i, id := range ids {
		want[i] = id.String()
	}
	require.Equal(t, strings.Join(want, ""), uuidText(ids))
	require.Equal(t, "", uuidText(nil))
}

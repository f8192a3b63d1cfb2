package sandbox

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	base, ceiling := 200*time.Millisecond, 30*time.Second
	for try, want := range []time.Duration{base, 2 * base, 4 * base, 8 * base} {
		for range 50 {
			d := backoff(base, ceiling, try)
			require.GreaterOrEqual(t, d, want/2, "try %d", try)
			require.LessOrEqual(t, d, want, "try %d", try)
		}
	}
	// Far into the retries the wait stays within [ceiling/2, ceiling], without overflow.
	for _, try := range []int{20, 100, 1 << 20} {
		d := backoff(base, ceiling, try)
		require.GreaterOrEqual(t, d, ceiling/2)
		require.LessOrEqual(t, d, ceiling)
	}
}

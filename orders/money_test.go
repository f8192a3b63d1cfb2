package orders

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLookupCurrency(t *testing.T) {
	t.Parallel()
	for code, decimals := range map[string]int{"VND": 0, "IRR": 0, "THB": 2, "USD": 2, "vnd": 0, "Thb": 2} {
		c, ok := LookupCurrency(code)
		require.True(t, ok, code)
		require.Equal(t, decimals, c.Decimals, code)
		require.Len(t, c.Code, 3)
	}
	c, _ := LookupCurrency("vnd")
	require.Equal(t, "VND", c.Code, "codes come back upper case")
	for _, code := range []string{"", "XXX", "VN", "VNDD", " VND", "đồng"} {
		_, ok := LookupCurrency(code)
		require.False(t, ok, "%q", code)
	}
}

func TestMulAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q, p int64
		want int64
		ok   bool
	}{
		{2, 150000, 300000, true},
		{0, MaxAmount, 0, true},
		{7, 0, 0, true},
		{1, MaxAmount, MaxAmount, true},
		{1_000_000, MaxAmount / 1_000_000, MaxAmount, true},
		{1, MaxAmount + 1, 0, false},
		{2, MaxAmount/2 + 1, 0, false},
		{1_000_000, MaxAmount, 0, false},   // 1e21 overflows int64
		{math.MaxInt64, 2, 0, false},       // wraps without the check
		{3, math.MaxInt64/3 + 1, 0, false}, // just past int64
		{math.MaxInt64, math.MaxInt64, 0, false},
		{-1, 5, 0, false},
		{5, -1, 0, false},
		{-1, -1, 0, false}, // a negative times a negative is positive, and still wrong
		{math.MinInt64, -1, 0, false},
	} {
		got, ok := mulAmount(tc.q, tc.p)
		require.Equal(t, tc.ok, ok, "%d × %d", tc.q, tc.p)
		if tc.ok {
			require.Equal(t, tc.want, got, "%d × %d", tc.q, tc.p)
		}
	}
}

func TestAddAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b int64
		want int64
		ok   bool
	}{
		{300000, 30000, 330000, true},
		{0, 0, 0, true},
		{MaxAmount, 0, MaxAmount, true},
		{MaxAmount - 1, 1, MaxAmount, true},
		{MaxAmount, 1, 0, false},
		{MaxAmount, MaxAmount, 0, false},
		{-1, 1, 0, false},
		{1, -1, 0, false},
	} {
		got, ok := addAmount(tc.a, tc.b)
		require.Equal(t, tc.ok, ok, "%d + %d", tc.a, tc.b)
		if tc.ok {
			require.Equal(t, tc.want, got, "%d + %d", tc.a, tc.b)
		}
	}
}

// FuzzMulAddAmount checks the overflow guards against exact arithmetic: whenever they
// accept, the result is the true product or sum and within MaxAmount.
func FuzzMulAddAmount(f *testing.F) {
	f.Add(int64(2), int64(150000))
	f.Add(int64(1_000_000), MaxAmount)
	f.Add(int64(math.MaxInt64), int64(2))
	f.Add(int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, a, b int64) {
		if r, ok := mulAmount(a, b); ok {
			require.True(t, a >= 0 && b >= 0)
			require.True(t, r >= 0 && r <= MaxAmount)
			if a != 0 {
				require.Equal(t, b, r/a)
				require.Zero(t, r%a)
			}
		}
		// Amounts reaching addAmount are already bounded by MaxAmount.
		if a > MaxAmount || b > MaxAmount {
			return
		}
		if r, ok := addAmount(a, b); ok {
			require.True(t, a >= 0 && b >= 0)
			require.Equal(t, a, r-b)
			require.True(t, r <= MaxAmount)
		} else {
			require.True(t, a < 0 || b < 0 || a > MaxAmount-b)
		}
	})
}

package sizing

import "testing"

func TestMinMemoryLimitMiB(t *testing.T) {
	for _, c := range []struct {
		peakRSS int64
		want    int64
	}{
		{32 << 20, 40},
		{64 << 20, 80},
		// 67.3 MiB + 25 % is 84.1 MiB: rounded up, never down.
		{67<<20 + 300<<10, 85},
		{1, 1},
		{0, 0},
	} {
		if got := MinMemoryLimitMiB(c.peakRSS); got != c.want {
			t.Errorf("MinMemoryLimitMiB(%d) = %d, want %d", c.peakRSS, got, c.want)
		}
	}
}

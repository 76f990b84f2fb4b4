package shard

import (
	"math"
	"testing"
)

func TestSplitCoversTheSpaceWithoutGapsOrOverlaps(t *testing.T) {
	for n := 1; n <= MaxShards; n++ {
		ranges := Split(n)
		if len(ranges) != n {
			t.Fatalf("Split(%d) made %d ranges", n, len(ranges))
		}
		if ranges[0].Low != 0 || ranges[n-1].Max != math.MaxUint64 {
			t.Fatalf("Split(%d) spans [%#x, %#x], want the whole space", n, ranges[0].Low, ranges[n-1].Max)
		}
		for i, r := range ranges {
			if r.Low > r.Max {
				t.Fatalf("Split(%d)[%d] = %v is empty", n, i, r)
			}
			if i > 0 && r.Low != ranges[i-1].Max+1 {
				t.Fatalf("Split(%d)[%d] starts at %#x, right after %#x", n, i, r.Low, ranges[i-1].Max)
			}
			// Equal ranges: each is within one hash of 2^64/n.
			size := r.Max - r.Low + 1 // wraps to 0 only for n == 1
			if want := uint64(math.MaxUint64)/uint64(n) + 1; n > 1 && size != want && size+1 != want {
				t.Fatalf("Split(%d)[%d] holds %d hashes, want about %d", n, i, size, want)
			}
		}
	}
}

func TestSplitRejectsCountsOutOfBounds(t *testing.T) {
	for _, n := range []int{-1, 0, MaxShards + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Split(%d) did not panic", n)
				}
			}()
			Split(n)
		}()
	}
}

func TestContainsAtTheEdges(t *testing.T) {
	ranges := Split(3)
	for _, tc := range []struct {
		hash  uint64
		shard int
	}{
		{0, 0},
		{0x5555555555555554, 0},
		{0x5555555555555555, 1},
		{0xaaaaaaaaaaaaaaa9, 1},
		{0xaaaaaaaaaaaaaaaa, 2},
		{math.MaxUint64, 2},
	} {
		for i, r := range ranges {
			if got := r.Contains(tc.hash); got != (i == tc.shard) {
				t.Errorf("%v.Contains(%#x) = %v", r, tc.hash, got)
			}
		}
	}
	if all := Split(1)[0]; !all.Contains(0) || !all.Contains(math.MaxUint64) {
		t.Errorf("Split(1) = %v does not hold the whole space", all)
	}
}

func TestSelectorIsWhatTheAPIServerAccepts(t *testing.T) {
	for _, tc := range []struct {
		r    Range
		want string
	}{
		{Split(1)[0], "shardRange(object.metadata.uid, '0x0000000000000000', '0x10000000000000000')"},
		{Split(2)[0], "shardRange(object.metadata.uid, '0x0000000000000000', '0x8000000000000000')"},
		{Split(2)[1], "shardRange(object.metadata.uid, '0x8000000000000000', '0x10000000000000000')"},
		{Split(3)[1], "shardRange(object.metadata.uid, '0x5555555555555555', '0xaaaaaaaaaaaaaaaa')"},
		{Range{Low: 0xab, Max: 0xab}, "shardRange(object.metadata.uid, '0x00000000000000ab', '0x00000000000000ac')"},
	} {
		if got := tc.r.Selector(); got != tc.want {
			t.Errorf("Selector() = %q, want %q", got, tc.want)
		}
	}
}

func TestStringIsTheHalfOpenRange(t *testing.T) {
	if got, want := Split(3)[2].String(), "[0xaaaaaaaaaaaaaaaa, 0x10000000000000000)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestOverlaps(t *testing.T) {
	six, four := Split(6), Split(4)
	for _, tt := range []struct {
		a, b Range
		want bool
	}{
		{six[0], six[0], true},
		{six[0], six[1], false},
		{six[1], six[0], false},
		{four[0], six[0], true},
		{four[0], six[1], true}, // 1/6 < 1/4
		{four[0], six[2], false},
		{four[1], six[1], true},
		{four[3], six[5], true},
		{four[2], six[2], false}, // [1/2, 3/4) and [1/3, 1/2) only touch
		{Range{Low: 5, Max: 5}, Range{Low: 5, Max: 9}, true},
		{Range{Low: 0, Max: 4}, Range{Low: 5, Max: 9}, false},
	} {
		if got := tt.a.Overlaps(tt.b); got != tt.want {
			t.Errorf("%v.Overlaps(%v) = %t, want %t", tt.a, tt.b, got, tt.want)
		}
	}
}

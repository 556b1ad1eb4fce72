package sequential

import (
	"errors"
	"math"
	"testing"
)

// FuzzObserveKeepsEvidenceFiniteAndNonNegative feeds three arbitrary
// cumulative readings (resets, huge counts and all) and checks the
// invariants callers rely on: negative counts are refused, everything else is
// accepted, and e-values and stored sums are never NaN or infinite.
func FuzzObserveKeepsEvidenceFiniteAndNonNegative(f *testing.F) {
	f.Add(false, uint8(10), int64(0), int64(0), int64(0), int64(0),
		int64(100), int64(3), int64(900), int64(9), int64(50), int64(1), int64(1000), int64(10))
	f.Add(true, uint8(30), int64(5), int64(5), int64(0), int64(0),
		int64(math.MaxInt64), int64(math.MaxInt64), int64(1), int64(0), int64(1), int64(1), int64(2), int64(2))
	f.Fuzz(func(t *testing.T, perInterval bool, tol uint8,
		c1, e1, p1, f1, c2, e2, p2, f2, c3, e3, p3, f3 int64) {
		mode := PerRequest
		if perInterval {
			mode = PerInterval
		}
		test, err := New(Config{Alpha: 0.05, Tolerance: 0.1 + float64(tol)/10, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		var s State
		for _, r := range []Reading{reading(c1, e1, p1, f1), reading(c2, e2, p2, f2), reading(c3, e3, p3, f3)} {
			next, err := test.Observe(s, r)
			negative := r.Canary.Requests < 0 || r.Canary.Events < 0 || r.Primary.Requests < 0 || r.Primary.Events < 0
			if negative != errors.Is(err, ErrNegativeCount) || (!negative && err != nil) {
				t.Fatalf("reading %+v: negative=%v, err=%v", r, negative, err)
			}
			if err == nil {
				s = next
			}
			checkInvariants(t, test, s)
		}
	})
}

func checkInvariants(t *testing.T, test *Test, s State) {
	t.Helper()
	for _, e := range []float64{test.RollbackEvidence(s), test.PromotionEvidence(s)} {
		if math.IsNaN(e) || math.IsInf(e, 0) || e < 0 {
			t.Fatalf("e-value %v in state %+v", e, s)
		}
	}
	for _, l := range append(append([]float64(nil), s.LogRollback...), s.LogPromotion...) {
		if math.IsNaN(l) || math.IsInf(l, 0) || l > maxLog {
			t.Fatalf("log likelihood ratio %v in state %+v", l, s)
		}
	}
	if s.Canary.Requests < 0 || s.Canary.Events < 0 || s.Primary.Requests < 0 || s.Primary.Events < 0 {
		t.Fatalf("negative totals in state %+v", s)
	}
}

package sequential

import "testing"

func benchmarkObserve(b *testing.B, mode Mode) {
	test := mustNew(b, Config{Alpha: 0.05, Tolerance: 1, Mode: mode})
	s := observeAll(b, test, reading(0, 0, 0, 0))
	r := reading(0, 0, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		r.Canary.Requests += 600
		r.Canary.Events += 7
		r.Primary.Requests += 5400
		r.Primary.Events += 53
		next, err := test.Observe(s, r)
		if err != nil {
			b.Fatal(err)
		}
		s = next
	}
}

// BenchmarkObservePerRequest is the cost of one reading (one minute at 100
// requests/s, 10% canary) in PerRequest mode.
func BenchmarkObservePerRequest(b *testing.B) { benchmarkObserve(b, PerRequest) }

// BenchmarkObservePerInterval is the same in PerInterval mode, which computes
// a binomial median.
func BenchmarkObservePerInterval(b *testing.B) { benchmarkObserve(b, PerInterval) }

package mesh

import (
	"math/rand/v2"
	"testing"

	. "github.com/onsi/gomega"
)

// picks counts the choices of n successive picks.
func picks(s *splitter, choices, n int) []int {
	counts := make([]int, choices)
	for range n {
		i, ok := s.next()
		if !ok {
			break
		}
		counts[i]++
	}
	return counts
}

func TestTheSplitGivesEachDestinationExactlyItsWeightPerRound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights []int32
		rounds  int
		want    []int
	}{
		{"90/10 over one round of 100", []int32{90, 10}, 1, []int{90, 10}},
		{"1/99 over three rounds", []int32{1, 99}, 3, []int{3, 297}},
		{"0/100 sends nothing to the first", []int32{0, 100}, 2, []int{0, 200}},
		{"100/0 sends nothing to the second", []int32{100, 0}, 2, []int{200, 0}},
		{"three ways 33/33/34", []int32{33, 33, 34}, 5, []int{165, 165, 170}},
		{"Gateway API's default weights of 1 share equally", []int32{1, 1}, 7, []int{7, 7}},
		{"a negative weight counts as zero", []int32{-5, 50, 50}, 1, []int{0, 50, 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var total int
			for _, w := range tc.weights {
				total += max(int(w), 0)
			}
			g.Expect(picks(newSplitter(tc.weights), len(tc.weights), tc.rounds*total)).To(Equal(tc.want))
		})
	}
}

func TestTheSplitIsNeverMoreThanOneRequestAwayFromTheExactShare(t *testing.T) {
	g := NewWithT(t)
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		weights := make([]int32, 2+rng.IntN(3))
		var total int64
		for i := range weights {
			weights[i] = int32(rng.IntN(101))
			total += int64(weights[i])
		}
		if total == 0 {
			continue
		}
		s := newSplitter(weights)
		counts := make([]int64, len(weights))
		for k := int64(1); k <= 3*total; k++ {
			i, ok := s.next()
			g.Expect(ok).To(BeTrue())
			counts[i]++
			for j, w := range weights {
				// |counts[j] - k*w/total| < 1, in integers.
				diff := counts[j]*total - k*int64(w)
				g.Expect(diff).To(BeNumerically(">", -total), "weights %v after %d picks: %v", weights, k, counts)
				g.Expect(diff).To(BeNumerically("<", total), "weights %v after %d picks: %v", weights, k, counts)
			}
		}
	}
}

func TestASplitWithNoPositiveWeightPicksNothing(t *testing.T) {
	g := NewWithT(t)
	for _, weights := range [][]int32{nil, {0}, {0, 0}} {
		_, ok := newSplitter(weights).next()
		g.Expect(ok).To(BeFalse(), "weights %v", weights)
	}
}

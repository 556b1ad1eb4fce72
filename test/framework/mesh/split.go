package mesh

// destination is one weighted destination of a route, as the route object
// names it.
type destination struct {
	host   string
	weight int32
}

// splitter spreads successive requests over weighted choices by smooth
// weighted round robin (as nginx does): over every run of W consecutive
// picks, W being the sum of the weights, choice i is picked exactly weight[i]
// times, and its picks are spread evenly through the run. Over any number of
// picks a choice is therefore never more than one request away from its
// exact share. Choices of weight 0 or less are never picked.
type splitter struct {
	weights []int64
	current []int64
	total   int64
}

// newSplitter returns a splitter over weights.
func newSplitter(weights []int32) *splitter {
	s := &splitter{weights: make([]int64, len(weights)), current: make([]int64, len(weights))}
	for i, w := range weights {
		if w > 0 {
			s.weights[i] = int64(w)
			s.total += int64(w)
		}
	}
	return s
}

// next returns the index of the next choice, or false when no choice has a
// positive weight.
func (s *splitter) next() (int, bool) {
	if s.total == 0 {
		return 0, false
	}
	best := -1
	for i, w := range s.weights {
		if w == 0 {
			continue
		}
		s.current[i] += w
		if best < 0 || s.current[i] > s.current[best] {
			best = i
		}
	}
	s.current[best] -= s.total
	return best, true
}
